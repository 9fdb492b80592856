// Imported for its effect, before a thread makes its first onnxruntime tensor.
//
// Where the runtime has Float16Array (Node 24), onnxruntime-common turns every float16 tensor's
// data into one, and onnxruntime-node 1.30's binding cannot read it: N-API reports such an array
// as holding no bytes ("not enough space: expected 8192, got 0"). Without the global,
// onnxruntime-common keeps float16 data as Uint16Array bits, which the binding reads, as on
// Node 20; outputs come back as Uint16Array too (decode/float16.ts reads either).
delete (globalThis as { Float16Array?: unknown }).Float16Array;

export {};
