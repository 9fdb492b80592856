// A model's parameter count from its config.json, for the architectures whose parameters
// Parley knows by name. The graph's initializers cannot give it once weights are quantized:
// 4-bit blocks hold two values a byte, and scales and zero points add tensors of their own.

import { type Gpt2Dims, gpt2ParamSpecs, type ParamSpec } from './gpt2Weights.js';
import { llamaDimsFromConfig, llamaParamSpecs } from './llamaWeights.js';

const whole = (config: Record<string, unknown>, key: string): number | null => {
  const value = config[key];
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
};

function gpt2Dims(config: Record<string, unknown>): Gpt2Dims | null {
  const layers = whole(config, 'n_layer');
  const heads = whole(config, 'n_head');
  const embd = whole(config, 'n_embd');
  const positions = whole(config, 'n_positions') ?? whole(config, 'n_ctx');
  const vocabSize = whole(config, 'vocab_size');
  if (!layers || !heads || !embd || !positions || !vocabSize) return null;
  const inner = whole(config, 'n_inner');
  return { layers, heads, embd, positions, vocabSize, ...(inner ? { inner } : {}) };
}

const total = (specs: readonly ParamSpec[]): number => specs.reduce((sum, spec) => sum + spec.dims.reduce((p, d) => p * d, 1), 0);

/** The parameters config.json describes (a tied head counted once), or null for an architecture Parley does not know. */
export function configParameterCount(config: Record<string, unknown>): number | null {
  if (config['model_type'] === 'gpt2') {
    const dims = gpt2Dims(config);
    return dims ? total(gpt2ParamSpecs(dims)) : null;
  }
  const dims = llamaDimsFromConfig(config);
  return typeof dims === 'string' ? null : total(llamaParamSpecs(dims));
}
