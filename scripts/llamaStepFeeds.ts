// One decode step's inputs for a Llama-family graph of `dims` over `context` tokens of random
// past, and the outputs the rows path fetches: shared by the attention bench and the step profiler.
import * as ort from 'onnxruntime-node';
import type { LlamaDims } from '../src/graph/llamaWeights.js';

const int64 = (data: readonly number[], dimsOf: readonly number[]) => new ort.Tensor('int64', BigInt64Array.from(data, BigInt), dimsOf);

export function decodeStepFeeds(
  dims: Pick<LlamaDims, 'layers' | 'kvHeads' | 'headDim'>,
  context: number,
): { feeds: (step: number) => Record<string, ort.Tensor>; fetches: string[] } {
  const past: Record<string, ort.Tensor> = {};
  const cache = new Float32Array(dims.kvHeads * context * dims.headDim).map(() => Math.random() - 0.5);
  for (let i = 0; i < dims.layers; i++) {
    for (const kind of ['key', 'value'])
      past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', cache, [1, dims.kvHeads, context, dims.headDim]);
  }
  const fetches = [
    'logits',
    ...Array.from({ length: dims.layers }, (_, i) => [`new_key_values.${i}.key`, `new_key_values.${i}.value`]).flat(),
  ];
  const feeds = (step: number): Record<string, ort.Tensor> => ({
    input_ids: int64([100 + step], [1, 1]),
    attention_mask: int64(new Array<number>(context + 1).fill(1), [1, context + 1]),
    position_ids: int64([context], [1, 1]),
    num_logits_to_keep: int64([1], []),
    ...past,
  });
  return { feeds, fetches };
}
