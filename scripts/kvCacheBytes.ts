// Bytes of KV cache a decode step reads: every layer's past keys and values, once each.
// The element size comes from the graph's declared past inputs, so an fp16 cache counts as such.
import * as ort from 'onnxruntime-node';

export interface KvLayout {
  layers: number;
  /** heads × head size: one position's keys (or values) in one layer. */
  width: number;
  elementBytes: number;
}

export async function kvLayout(onnxFile: string): Promise<KvLayout> {
  const session = await ort.InferenceSession.create(onnxFile);
  try {
    const pasts = session.inputMetadata.filter((m) => /^past_key_values\.\d+\.key$/.test(m.name));
    const meta = pasts[0];
    if (!meta || !meta.isTensor) throw new Error(`${onnxFile} has no past_key_values inputs`);
    const [, heads, , headDim] = meta.shape;
    if (typeof heads !== 'number' || typeof headDim !== 'number') throw new Error(`${meta.name} has no fixed heads/head size`);
    return { layers: pasts.length, width: heads * headDim, elementBytes: meta.type === 'float16' ? 2 : 4 };
  } finally {
    await session.release();
  }
}

/** KV bytes read by one step that attends over `positions` earlier positions. */
export function kvBytesPerToken(layout: KvLayout, positions: number): number {
  return 2 * layout.layers * layout.width * positions * layout.elementBytes;
}
