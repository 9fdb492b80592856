// What every reader of an exported graph shares: the error that says the graph is not one
// Parley recognises (the export then runs as it is, with the reason), and the constants it reads.

export class UnrecognisedGraph extends Error {}

export function fail(message: string): never {
  throw new UnrecognisedGraph(message);
}

export interface Constant {
  dims: number[];
  data: Float32Array;
  /** For values dequantized from integers: the quantization step (0 for float values). */
  step: number;
}

/** The constants a graph holds, by name: floats (dequantized where they are integers), or raw 8-bit bytes. */
export interface ConstantSource {
  constant(name: string): Constant | null;
  bytesOf(name: string): { dims: number[]; values: Int8Array | Uint8Array } | null;
}
