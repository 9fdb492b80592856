// Variants of the hub-style fixtures, written to a temporary folder: JSON files patched, an
// embedding row changed (so the random model says a chosen token), the ONNX file renamed to
// another dtype's name or its weights moved to external data.
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { floatInitializer, moveToExternalData, readOnnx } from './onnxInitializers.js';

export interface Variant {
  /** Keys merged into each JSON file (top level). */
  json?: Partial<
    Record<'config.json' | 'generation_config.json' | 'tokenizer_config.json' | 'special_tokens_map.json', Record<string, unknown>>
  >;
  /** Token `target`'s embedding row becomes `scale` times token `like`'s (the LM head is tied). */
  row?: { target: number; like: number; scale: number };
  /** Store the weights as onnx/model.onnx + onnx/model.onnx_data. */
  externalData?: boolean;
  /**
   * Every matrix (embeddings and projections) times this factor: the fixture's weights have a
   * std of 0.02, so 12.5 gives the larger weights (std 0.25) whose distributions are peaked.
   */
  weightScale?: number;
  /** Rename onnx/model.onnx to this file name (another dtype's). */
  onnxName?: string;
}

export function makeVariant(fixture: string, variant: Variant): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-variant-'));
  cpSync(fixture, dir, { recursive: true });
  for (const [file, patch] of Object.entries(variant.json ?? {})) {
    const target = path.join(dir, file);
    writeFileSync(target, JSON.stringify({ ...JSON.parse(readFileSync(target, 'utf8')), ...patch }, null, 2));
  }
  const onnx = path.join(dir, 'onnx', 'model.onnx');
  if (variant.row) {
    const { bytes, initializers } = readOnnx(onnx);
    const embedding = initializers.find((i) => i.name === 'model.embed_tokens.weight')!;
    const values = floatInitializer(bytes, initializers, embedding.name);
    const width = embedding.dims[1]!;
    const { target, like, scale } = variant.row;
    for (let j = 0; j < width; j++) values[target * width + j] = scale * values[like * width + j]!;
    bytes.set(new Uint8Array(values.buffer), embedding.rawOffset);
    writeFileSync(onnx, bytes);
  }
  if (variant.weightScale !== undefined) {
    const { bytes, initializers } = readOnnx(onnx);
    for (const matrix of initializers.filter((i) => i.dataType === 1 && i.dims.length === 2 && i.rawOffset >= 0)) {
      const values = floatInitializer(bytes, initializers, matrix.name).map((v) => v * variant.weightScale!);
      bytes.set(new Uint8Array(values.buffer), matrix.rawOffset);
    }
    writeFileSync(onnx, bytes);
  }
  if (variant.externalData) {
    const { model, data } = moveToExternalData(new Uint8Array(readFileSync(onnx)), 'model.embed_tokens.weight', 'model.onnx_data');
    writeFileSync(onnx, model);
    writeFileSync(path.join(dir, 'onnx', 'model.onnx_data'), data);
  }
  if (variant.onnxName) renameSync(onnx, path.join(dir, 'onnx', variant.onnxName));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
