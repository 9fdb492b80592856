// The model folder's files, checked before anything reads one: Parley, transformers.js and
// onnxruntime all read whole files, so a FIFO would block the load forever and a link to
// /dev/zero would fill memory. Every JSON file at the top and every graph file under onnx/
// must be a regular file of a size its format allows.
import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';

const MiB = 1024 * 1024;
/** tokenizer.json holds the vocabulary and merges: tens of MB for the largest vocabularies. */
const TOKENIZER_JSON_LIMIT = 512 * MiB;
/** config.json, generation_config.json, tokenizer_config.json (chat templates included): a few KB. */
const OTHER_JSON_LIMIT = 16 * MiB;
/** The smallest ModelProto that holds a graph: a version, an opset and a graph with a node. */
export const ONNX_MIN_BYTES = 16;

export type FolderFileProblem = { file: string; kind: 'not-regular'; what: string } | { file: string; kind: 'size'; why: string };

/** The first file of `folder` Parley must not read, or null when all are fit to read. */
export async function folderFileProblem(folder: string): Promise<FolderFileProblem | null> {
  const top = await namesIn(folder);
  for (const name of top.filter((n) => n.endsWith('.json')).sort()) {
    const problem = await checkFile(folder, name, (size) =>
      size > (name === 'tokenizer.json' ? TOKENIZER_JSON_LIMIT : OTHER_JSON_LIMIT)
        ? `${size} bytes, more than a ${name} can sensibly hold`
        : null,
    );
    if (problem) return problem;
  }
  const onnx = top.includes('onnx') ? await namesIn(path.join(folder, 'onnx')) : [];
  for (const name of onnx.filter((n) => /\.onnx(_data|\.data)?$/.test(n)).sort()) {
    const problem = await checkFile(folder, `onnx/${name}`, (size) =>
      name.endsWith('.onnx') && size < ONNX_MIN_BYTES ? `${size} bytes, too short for an ONNX model` : null,
    );
    if (problem) return problem;
  }
  return null;
}

/** The problem as the end of a sentence that starts with the model's name. */
export function describeProblem(problem: FolderFileProblem): string {
  return problem.kind === 'not-regular'
    ? `${problem.file} is ${problem.what}, not a regular file; Parley reads only regular files`
    : `${problem.file} is not a file Parley can load (${problem.why})`;
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function checkFile(folder: string, file: string, sizeProblem: (size: number) => string | null): Promise<FolderFileProblem | null> {
  let info: Stats;
  try {
    // stat follows links: what matters is what a read would open.
    info = await stat(path.join(folder, file));
  } catch {
    // A dangling link or a file gone meanwhile: the reader reports it as missing.
    return null;
  }
  if (!info.isFile()) return { file, kind: 'not-regular', what: kindOf(info) };
  const why = sizeProblem(info.size);
  return why === null ? null : { file, kind: 'size', why };
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  if (info.isDirectory()) return 'a directory';
  return 'a special file';
}
