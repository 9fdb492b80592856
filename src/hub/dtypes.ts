// The weight formats a model's ONNX files come in, as transformers.js names them: the hub's
// file names (see dtypeFiles.ts) and the engine's load options both speak in these.
export type Dtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16';
export const DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16'];
