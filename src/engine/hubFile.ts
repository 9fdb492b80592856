// Fetches one file of a hub repository into transformers.js's file cache
// (<cacheDir>/<id>/<file>), where a later from_pretrained finds it: used for an export's
// fp32 file when only a quantized dtype was asked for and Parley builds its graph from fp32.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LoadProgress } from './protocol.js';

export async function fetchHubFile(id: string, file: string, dest: string, onProgress: (p: LoadProgress) => void): Promise<void> {
  const { env } = await import('@huggingface/transformers');
  const base = env.remoteHost.endsWith('/') ? env.remoteHost : `${env.remoteHost}/`;
  const url = `${base}${env.remotePathTemplate.replaceAll('{model}', id).replaceAll('{revision}', 'main')}${file}`;
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} for ${file}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  await mkdir(path.dirname(dest), { recursive: true });
  const temp = `${dest}.tmp-${process.pid}`;
  let loaded = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    loaded += chunk.byteLength;
    onProgress({ kind: 'download', file, loaded, total });
  });
  try {
    await pipeline(body, createWriteStream(temp));
    await rename(temp, dest);
  } finally {
    await rm(temp, { force: true });
  }
}
