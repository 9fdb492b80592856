// GGUF files of generated models for `npm run bench:peers`, cached in .cache/peers/gguf and
// named by the model, the generator's and the writer's versions and the tensor type.
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_GENERATOR_VERSION } from '../../src/graph/makeModelFolder.js';
import { REPO_ROOT } from '../../test/helpers/fixtures.js';
import { log } from '../benchStats.js';
import { GGUF_WRITER_VERSION, type GgufType } from '../gguf/ggufFile.js';

/** `.cache/peers/gguf/<name>-v…-<type>.gguf`, written by `write` when missing (beside, then renamed in). */
export async function cachedGguf(name: string, type: GgufType, write: (file: string) => Promise<void>): Promise<string> {
  const dir = path.join(REPO_ROOT, '.cache', 'peers', 'gguf');
  const file = path.join(dir, `${name}-v${MODEL_GENERATOR_VERSION}w${GGUF_WRITER_VERSION}-${type}.gguf`);
  if (existsSync(file)) return file;
  await mkdir(dir, { recursive: true });
  log(`writing ${path.basename(file)}…`);
  const temp = `${file}.tmp-${process.pid}`;
  await write(temp);
  await rename(temp, file);
  return file;
}
