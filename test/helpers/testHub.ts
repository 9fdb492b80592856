// A small stand-in for the Hugging Face hub, on 127.0.0.1 and an ephemeral port: it serves
// model folders under the hub's URL layout, `/{owner}/{name}/resolve/{revision}/{path}`,
// with content-length, ETag, HEAD, byte ranges (so downloads can resume) and 404s, plus
// the API's file listing, `/api/models/{owner}/{name}/revision/{revision}` (off with
// `api: false`, as on a mirror that only serves files). A file can be made to cut off
// mid-transfer, stall, or arrive slowly. Every request is logged, so a test can check that
// a run made none.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface FileBehaviour {
  /** Send this many bytes of the body, then drop the connection. */
  cutAfter?: number;
  /** Send this many bytes, then nothing more (the connection stays open). */
  stallAfter?: number;
  /** Send the body at about this rate. */
  bytesPerSecond?: number;
  /** Apply to this many requests only (default: until cleared). */
  times?: number;
}

export interface HubRequest {
  method: string;
  path: string;
  status: number;
  range?: string;
}

/** A repository given file by file: its path in the repository → the local file served there. */
export interface RepoFiles {
  files: Record<string, string>;
}

export interface TestHubOptions {
  /** `owner/name` → the folder served as that repository, or its files one by one. */
  repos: Record<string, string | RepoFiles>;
  /** Serve the API's file listing (default true). */
  api?: boolean;
}

export class TestHub {
  readonly requests: HubRequest[] = [];
  private readonly behaviours = new Map<string, FileBehaviour>();
  private server: Server | null = null;
  private port = 0;

  constructor(private readonly options: TestHubOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Makes `owner/name`'s `file` misbehave (null: behave again). */
  behave(repoId: string, file: string, behaviour: FileBehaviour | null): void {
    const key = `${repoId}/${file}`;
    if (behaviour) this.behaviours.set(key, { ...behaviour });
    else this.behaviours.delete(key);
  }

  /** Requests for files (not the API), as `owner/name/path`. */
  fileRequests(): string[] {
    return this.requests.filter((r) => r.path.includes('/resolve/')).map((r) => r.path.replace(/\/resolve\/[^/]+\//, '/'));
  }

  /** Starts on a fresh ephemeral port, or on the same one again after stop(). */
  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private log(req: IncomingMessage, status: number): void {
    const entry: HubRequest = { method: req.method ?? 'GET', path: decodeURIComponent((req.url ?? '').split('?')[0]!), status };
    if (req.headers.range) entry.range = req.headers.range;
    this.requests.push(entry);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/[^/]+$/.exec(url);
    if (api && this.options.api !== false) {
      const repo = this.options.repos[api[1]!];
      if (!repo) return this.notFound(req, res);
      const files = typeof repo === 'string' ? await listFiles(repo) : Object.keys(repo.files).sort();
      const body = JSON.stringify({ id: api[1], siblings: files.map((rfilename) => ({ rfilename })) });
      this.log(req, 200);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const match = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(url);
    const repo = match ? this.options.repos[match[1]!] : undefined;
    if (!match || !repo || (req.method !== 'GET' && req.method !== 'HEAD')) return this.notFound(req, res);
    const repoId = match[1]!;
    const file = match[2]!;
    let full: string;
    if (typeof repo === 'string') {
      full = path.resolve(repo, file);
      if (!full.startsWith(path.resolve(repo) + path.sep) || file.split('/').some((p) => p.startsWith('.'))) return this.notFound(req, res);
    } else {
      const mapped = Object.hasOwn(repo.files, file) ? repo.files[file] : undefined;
      if (mapped === undefined) return this.notFound(req, res);
      full = mapped;
    }
    const info = await stat(full).catch(() => null);
    if (!info?.isFile()) return this.notFound(req, res);

    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= info.size) {
        this.log(req, 416);
        res.writeHead(416, { 'content-range': `bytes */${info.size}` });
        res.end();
        return;
      }
    }
    const partial = start > 0;
    const status = partial ? 206 : 200;
    this.log(req, status);
    res.writeHead(status, {
      'content-length': info.size - start,
      'content-type': 'application/octet-stream',
      etag,
      'accept-ranges': 'bytes',
      ...(partial ? { 'content-range': `bytes ${start}-${info.size - 1}/${info.size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const behaviour = this.takeBehaviour(`${repoId}/${file}`);
    await sendBody(res, full, start, behaviour);
  }

  private takeBehaviour(key: string): FileBehaviour | null {
    const b = this.behaviours.get(key);
    if (!b) return null;
    if (b.times !== undefined) {
      b.times -= 1;
      if (b.times <= 0) this.behaviours.delete(key);
    }
    return b;
  }

  private notFound(req: IncomingMessage, res: ServerResponse): void {
    this.log(req, 404);
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 15 });
    res.end('Entry not found');
  }
}

async function listFiles(folder: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(folder, prefix), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(folder, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

async function sendBody(res: ServerResponse, file: string, start: number, behaviour: FileBehaviour | null): Promise<void> {
  const limit = behaviour?.cutAfter ?? behaviour?.stallAfter;
  const stream = createReadStream(file, { start, highWaterMark: 16 * 1024 });
  let sent = 0;
  const began = Date.now();
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (res.destroyed) {
      stream.destroy();
      return;
    }
    let piece = chunk;
    if (limit !== undefined && sent + piece.length > limit) piece = piece.subarray(0, Math.max(0, limit - sent));
    if (piece.length > 0 && !res.write(piece)) await new Promise((r) => res.once('drain', r));
    sent += piece.length;
    if (limit !== undefined && sent >= limit) {
      stream.destroy();
      if (behaviour?.cutAfter !== undefined) {
        // Let the bytes leave, then drop the connection mid-body: the pause is part of the cut
        // being staged (a client that got them resumes after them), not a wait for the test.
        await new Promise((r) => setTimeout(r, 50));
        res.destroy();
      }
      // A stall: nothing more, until the client or stop() closes the connection.
      return;
    }
    if (behaviour?.bytesPerSecond) {
      const due = began + (sent / behaviour.bytesPerSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  res.end();
}

/** A TestHub serving `repos`, started. */
export function startTestHub(options: TestHubOptions): Promise<TestHub> {
  return new TestHub(options).start();
}

/**
 * The repositories `gpt2` and `distilgpt2` name, with the files they publish under their real
 * names (small fixtures behind them): Xenova/gpt2's merged decoder as onnx/model.onnx and its
 * 8-bit files beside the pre-v3 names; Xenova/distilgpt2's pre-v3 names only. Files the
 * fixtures have no faithful stand-in for (fp16, q4, the unmerged decoders) are left out.
 */
export function publishedGpt2Repos(fixtures: string): Record<string, RepoFiles> {
  const common = (folder: string): Record<string, string> =>
    Object.fromEntries(
      ['config.json', 'generation_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [
        f,
        path.join(folder, f),
      ]),
    );
  const gpt2 = path.join(fixtures, 'hub-gpt2');
  const distil = path.join(fixtures, 'hub-distilgpt2');
  return {
    'Xenova/gpt2': {
      files: {
        ...common(gpt2),
        'onnx/model.onnx': path.join(gpt2, 'onnx', 'model.onnx'),
        'onnx/model_quantized.onnx': path.join(gpt2, 'onnx', 'model_quantized.onnx'),
        'onnx/model_int8.onnx': path.join(gpt2, 'onnx', 'model_quantized.onnx'),
        'onnx/decoder_model_merged.onnx': path.join(gpt2, 'onnx', 'model.onnx'),
        'onnx/decoder_model_merged_quantized.onnx': path.join(gpt2, 'onnx', 'model_quantized.onnx'),
      },
    },
    'Xenova/distilgpt2': {
      files: {
        ...common(distil),
        'onnx/decoder_model_merged.onnx': path.join(distil, 'onnx', 'decoder_model_merged.onnx'),
        'onnx/decoder_model_merged_quantized.onnx': path.join(distil, 'onnx', 'decoder_model_merged_quantized.onnx'),
      },
    },
  };
}
