// Which architectures Parley converts to its own graph, and how: per model_type, a reader that
// follows an export's graph to {dims, params} and the builder that writes Parley's graph from
// them. A new export form (e.g. the contrib-op Llama exports) is one more reader in its list.

import { UnrecognisedGraph, fail } from './graphReading.js';
import { buildGpt2Model } from './gpt2Graph.js';
import { readGpt2Export } from './gpt2Export.js';
import { readLlamaContribExport } from './llamaContribExport.js';
import { type LlamaExport, readLlamaExport } from './llamaExport.js';
import { buildLlamaModel } from './llamaGraph.js';
import { llamaKeptQ4 } from './keptQ4.js';
import type { OnnxModel } from './onnxReader.js';
import type { ParamSource, Precision } from './projection.js';
import type { ProtoMessage } from './protobufWriter.js';

/** An export read: its parameters (Hugging Face names) and how to build Parley's graph of them. */
export interface ConvertibleExport {
  vocabSize: number;
  /** The KV cache's heads and head width (the probe's empty past). */
  kvHeads: number;
  headDim: number;
  params: Map<string, Float32Array>;
  /** Projections whose 4-bit blocks a q4 build writes as the export has them (0: all are quantized here). */
  keptQ4: number;
  build(param: ParamSource, precision: Precision): ProtoMessage;
}

export interface ArchConverter {
  /** For messages: "GPT-2", "Llama-family". */
  family: string;
  /** Follows `model`'s graph; throws UnrecognisedGraph with the reason when it does not fit. */
  read(model: OnnxModel, config: Record<string, unknown>): ConvertibleExport;
}

/** Readers of Llama-family exports, tried in order; each throws UnrecognisedGraph when the form is not its own. */
export type LlamaReader = (model: OnnxModel, config: Record<string, unknown>) => LlamaExport;
const LLAMA_READERS: readonly LlamaReader[] = [readLlamaExport, readLlamaContribExport];

const gpt2: ArchConverter = {
  family: 'GPT-2',
  read(model, config) {
    const heads = typeof config['n_head'] === 'number' ? config['n_head'] : 0;
    if (heads <= 0) fail('config.json has no n_head');
    const exported = readGpt2Export(model, heads);
    const dims = { ...exported.dims, layerNormEpsilon: exported.layerNormEpsilon };
    return {
      vocabSize: dims.vocabSize,
      kvHeads: heads,
      headDim: dims.embd / heads,
      params: exported.params,
      keptQ4: 0,
      build: (param, precision) => buildGpt2Model(dims, param, precision),
    };
  },
};

const llama: ArchConverter = {
  family: 'Llama-family',
  read(model, config) {
    const reasons: string[] = [];
    for (const reader of LLAMA_READERS) {
      try {
        const { dims, params, q4 } = reader(model, config);
        const kept = q4 ?? new Map();
        return {
          vocabSize: dims.vocabSize,
          kvHeads: dims.kvHeads,
          headDim: dims.headDim,
          params,
          keptQ4: [...kept.keys()].filter((name) => params.has(name)).length,
          build: (param, precision) =>
            buildLlamaModel(dims, param, precision, precision === 'q4' && kept.size > 0 ? { keptQ4: llamaKeptQ4(kept) } : {}),
        };
      } catch (err) {
        if (!(err instanceof UnrecognisedGraph)) throw err;
        reasons.push(err.message);
      }
    }
    return fail(reasons.join('; '));
  },
};

const BY_MODEL_TYPE: Record<string, ArchConverter> = { gpt2, llama, qwen2: llama };

/** The converter for a config.json's model_type, or null when Parley has no graph of its own for it. */
export function converterFor(config: Record<string, unknown>): ArchConverter | null {
  const type = config['model_type'];
  return typeof type === 'string' && Object.hasOwn(BY_MODEL_TYPE, type) ? BY_MODEL_TYPE[type]! : null;
}
