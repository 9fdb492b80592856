// Writes a built model as two files: the graph (model.onnx) and its large tensors
// (model.onnx_data, ONNX's external data). onnxruntime maps external data into memory
// instead of parsing it out of the protobuf, so:
//   - a weight a kernel prepacks is read from the mapping and the mapping is dropped
//     afterwards, leaving no freed copy behind in the allocator's heap (from an embedded
//     graph, the parsed protobuf and the unpacked tensors were freed into holes the
//     process kept: ~50–100 MB resident on a 138 MB q8 SmolLM2 graph);
//   - a table only gathered from (the token embedding) stays in the page cache, and only
//     the pages of the tokens looked up count toward the process's resident memory.

import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { type LazyBytes, ProtoMessage } from './protobufWriter.js';
import {
  DATA_LOCATION_EXTERNAL,
  ENTRY_KEY,
  ENTRY_VALUE,
  GRAPH_INITIALIZER,
  MODEL_GRAPH,
  TENSOR_DATA_LOCATION,
  TENSOR_EXTERNAL_DATA,
  TENSOR_RAW_DATA,
} from './onnxFields.js';
import { writeChunks } from './writeChunks.js';

/** Smaller tensors (norm weights, scales, shape constants) stay inside the graph. */
export const EXTERNAL_MIN_BYTES = 64 * 1024;
/** Each tensor starts on a page, so onnxruntime maps it without a copy. */
export const EXTERNAL_ALIGN = 4096;

/** The data file beside a graph file (a name or a path): `<graph file>_data`, as Optimum and transformers.js name it. */
export const externalDataFile = (graphFile: string): string => `${graphFile}_data`;

export interface ExternalData {
  /** The data file's name, relative to the graph file's folder, as the graph records it. */
  location: string;
  byteLength: number;
  /** The file's bytes in order: each moved tensor, padded to EXTERNAL_ALIGN before it. */
  chunks(): Generator<Uint8Array>;
}

/** Where one moved tensor's bytes go. */
export interface Placement {
  offset: number;
  length: number;
}

/** Offsets of tensors of the given lengths laid out one after another, each aligned. */
export function placeTensors(lengths: readonly number[], align = EXTERNAL_ALIGN): { placements: Placement[]; byteLength: number } {
  let end = 0;
  const placements = lengths.map((length) => {
    const offset = Math.ceil(end / align) * align;
    end = offset + length;
    return { offset, length };
  });
  return { placements, byteLength: end };
}

/**
 * Moves the raw bytes of every initializer of at least `minBytes` out of `model` (changed in
 * place: it must not have been measured or encoded yet) into external data at `location`.
 * Lazy tensors are still produced once, when the data file is written. Null when no tensor
 * is that large.
 */
export function moveToExternalData(model: ProtoMessage, location: string, minBytes = EXTERNAL_MIN_BYTES): ExternalData | null {
  const moved: (Uint8Array | LazyBytes)[] = [];
  const tensors: ProtoMessage[] = [];
  for (const graph of model.messages(MODEL_GRAPH)) {
    for (const tensor of graph.messages(GRAPH_INITIALIZER)) {
      const bytes = tensor.takeBytes(TENSOR_RAW_DATA);
      if (bytes === undefined) continue;
      if (bytes.byteLength < minBytes) {
        // Put back as it was (field order does not matter to a protobuf reader).
        if (bytes instanceof Uint8Array) tensor.bytes(TENSOR_RAW_DATA, bytes);
        else tensor.lazyBytes(TENSOR_RAW_DATA, bytes);
        continue;
      }
      moved.push(bytes);
      tensors.push(tensor);
    }
  }
  if (moved.length === 0) return null;
  const { placements, byteLength } = placeTensors(moved.map((b) => b.byteLength));
  tensors.forEach((tensor, i) => {
    const entry = (key: string, value: string) =>
      tensor.message(TENSOR_EXTERNAL_DATA, new ProtoMessage().string(ENTRY_KEY, key).string(ENTRY_VALUE, value));
    entry('location', location);
    entry('offset', String(placements[i]!.offset));
    entry('length', String(placements[i]!.length));
    tensor.varint(TENSOR_DATA_LOCATION, DATA_LOCATION_EXTERNAL);
  });
  return {
    location,
    byteLength,
    *chunks() {
      let written = 0;
      for (const [i, bytes] of moved.entries()) {
        const { offset, length } = placements[i]!;
        if (offset > written) yield new Uint8Array(offset - written);
        let produced = 0;
        for (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes.chunks()) {
          produced += chunk.byteLength;
          yield chunk;
        }
        if (produced !== length) throw new Error(`a tensor produced ${produced} bytes, announced ${length}`);
        written = offset + length;
      }
    },
  };
}

/**
 * Writes `model` to `file` and its large tensors to `dataName` beside it (by default
 * `<file name>_data`, the name Optimum and transformers.js use). The data file is written under
 * a temporary name and renamed: a running Parley that maps the previous one keeps it. A model
 * with no large tensor is one file (and a stale data file of that name is removed).
 */
export async function writeModelFiles(file: string, model: ProtoMessage, dataName = externalDataFile(path.basename(file))): Promise<void> {
  const dataFile = path.join(path.dirname(file), dataName);
  const data = moveToExternalData(model, dataName);
  if (data) {
    const temp = `${dataFile}.tmp-${process.pid}`;
    try {
      await writeChunks(temp, data.chunks());
      await rename(temp, dataFile);
    } finally {
      await rm(temp, { force: true });
    }
  } else {
    await rm(dataFile, { force: true });
  }
  await writeChunks(file, model.encode());
}
