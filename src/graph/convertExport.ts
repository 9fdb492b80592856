// Builds Parley's own graph (the rows path, fused ops) from an export's file: the weights are
// read by following the export's graph (the architecture's reader, graphConverters.ts) and
// written by the same builder that makes the generated models.

import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ArchConverter, ConvertibleExport } from './graphConverters.js';
import type { Precision } from './projection.js';
import { parseOnnx } from './onnxReader.js';
import { writeModelFiles } from './externalData.js';

/**
 * Bumped whenever the converted graph changes (builder, quantization, what is read from an
 * export), so graphs converted by an older Parley are converted again.
 */
export const CONVERTED_GRAPH_VERSION = 4;

/** Reads and follows the export in `file`; throws UnrecognisedGraph when `converter` does not recognise it. */
export async function readExport(
  file: string,
  converter: ArchConverter,
  config: Record<string, unknown>,
): Promise<{ exported: ConvertibleExport; sha256: string }> {
  const bytes = await readFile(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const exported = converter.read(parseOnnx(bytes, path.dirname(file)), config);
  return { exported, sha256 };
}

/** SHA-256 of a file, streamed (a 500 MB export is not held twice). */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/**
 * Writes Parley's graph of `exported` in `precision` to `out`, its large tensors to `dataName`
 * beside it (by default writeModelFiles's `<out>_data`; name it for the file `out` becomes when
 * `out` is a temporary name), calling `onProgress` with 0..1.
 */
export async function writeConverted(
  exported: ConvertibleExport,
  precision: Precision,
  out: string,
  onProgress: (fraction: number) => void = () => {},
  dataName?: string,
): Promise<void> {
  const total = [...exported.params.values()].reduce((sum, values) => sum + values.length, 0);
  let done = 0;
  let reported = -1;
  const param = (name: string): Float32Array => {
    const values = exported.params.get(name);
    if (!values) throw new Error(`the export has no ${name}`);
    done += values.length;
    const fraction = Math.min(1, done / total);
    if (fraction - reported >= 0.05) {
      reported = fraction;
      onProgress(fraction);
    }
    return values;
  };
  await writeModelFiles(out, exported.build(param, precision), dataName);
  onProgress(1);
}
