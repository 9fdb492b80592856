// One file from the hub into the cache. The bytes go to `<file>.part` (resumed with a Range
// request when an earlier run left one), are checked against the announced length, fsynced,
// and only then renamed to their real name: a file under its real name is always complete,
// whatever happened to the process or the connection.
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connectionError, HubError, writeError } from './hubError.js';
import { SpeedMeter } from './speedMeter.js';
import { errorMessage } from '../errors.js';

export interface FileProgress {
  file: string;
  loaded: number;
  total: number;
  bytesPerSecond: number;
}

export interface DownloadFileOptions {
  url: string;
  /** The repository path, for messages and progress (`onnx/model.onnx`). */
  file: string;
  /** Where the finished file goes. */
  dest: string;
  /** For messages: `owner/name`. */
  repoId: string;
  onProgress?: (p: FileProgress) => void;
  signal?: AbortSignal;
  /** Give up when no byte arrives for this long (default 30 s). */
  idleTimeoutMs?: number;
  /** Least time between progress reports (default 100 ms); the last one is always sent. */
  progressEveryMs?: number;
}

/** What a `.part` was downloaded against, so a resume never splices two versions of a file. */
interface PartMeta {
  url: string;
  etag: string | null;
  total: number;
}

const partOf = (dest: string): string => `${dest}.part`;
const metaOf = (dest: string): string => `${dest}.part.json`;

/** Removes what an interrupted download of `dest` left behind. */
export async function removePartial(dest: string): Promise<void> {
  await rm(partOf(dest), { force: true });
  await rm(metaOf(dest), { force: true });
}

async function readMeta(dest: string): Promise<PartMeta | null> {
  try {
    const meta = JSON.parse(await readFile(metaOf(dest), 'utf8')) as Partial<PartMeta>;
    if (typeof meta.url !== 'string' || typeof meta.total !== 'number') return null;
    return { url: meta.url, etag: typeof meta.etag === 'string' ? meta.etag : null, total: meta.total };
  } catch {
    return null;
  }
}

async function partSize(dest: string): Promise<number> {
  try {
    return (await stat(partOf(dest))).size;
  } catch {
    return 0;
  }
}

/** Downloads `options.url` to `options.dest`. Throws HubError; never leaves a file at `dest` unless complete. */
export async function downloadFile(options: DownloadFileOptions): Promise<void> {
  const { url, file, dest, repoId } = options;
  const what = `${file} of ${repoId}`;
  const dir = path.dirname(dest);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw writeError(err, what, dir);
  }

  const meta = await readMeta(dest);
  let offset = meta && meta.url === url && meta.etag ? await partSize(dest) : 0;
  if (meta && offset >= meta.total) offset = 0;

  const idle = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(), idleMs);
  };
  const fail = (err: unknown): HubError => {
    if (err instanceof HubError) return err;
    if (options.signal?.aborted) return new HubError('cancelled', `download of ${what} stopped`);
    if (idle.signal.aborted)
      return new HubError('network', `download of ${what} stalled: nothing arrived for ${Math.round(idleMs / 1000)} s`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return connectionError(url, what, cause?.code, cause?.code ?? cause?.message ?? errorMessage(err));
  };

  touch();
  try {
    const headers: Record<string, string> = {};
    if (offset > 0 && meta?.etag) {
      headers['range'] = `bytes=${offset}-`;
      headers['if-range'] = meta.etag;
    }
    let response: Response;
    try {
      response = await fetch(url, { headers, signal, redirect: 'follow' });
    } catch (err) {
      throw fail(err);
    }
    if (response.status === 404 || response.status === 401) {
      await response.body?.cancel();
      throw new HubError('not-found', `${repoId} has no ${file} on the hub (${response.status} from ${url})`);
    }
    if (response.status === 416) {
      // Our part no longer fits the file: start over.
      await response.body?.cancel();
      await removePartial(dest);
      return downloadFile(options);
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      // The reason phrase comes from the network: no control characters into a terminal.
      const reason = response.statusText.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
      throw new HubError('http', `download of ${what} failed: the hub answered ${response.status} ${reason}`);
    }
    const resumed = response.status === 206;
    if (!resumed) offset = 0;
    const length = Number(response.headers.get('content-length') ?? NaN);
    const total = resumed ? (totalFromContentRange(response.headers.get('content-range')) ?? offset + length) : length;
    const etag = response.headers.get('x-linked-etag') ?? response.headers.get('etag');
    if (!resumed) {
      await removePartial(dest);
      try {
        await writeFile(metaOf(dest), JSON.stringify({ url, etag, total: Number.isFinite(total) ? total : -1 } satisfies PartMeta));
      } catch (err) {
        throw writeError(err, what, dir);
      }
    }

    const meter = new SpeedMeter();
    const every = options.progressEveryMs ?? 100;
    let loaded = offset;
    let lastReport = 0;
    const report = (force: boolean): void => {
      const now = performance.now();
      const bytesPerSecond = meter.add(now, loaded);
      if (!force && now - lastReport < every) return;
      lastReport = now;
      options.onProgress?.({ file, loaded, total: Number.isFinite(total) ? total : 0, bytesPerSecond });
    };
    report(true);

    const out = createWriteStream(partOf(dest), { flags: resumed ? 'a' : 'w' });
    const writeFailed = new Promise<never>((_, reject) => out.once('error', reject));
    writeFailed.catch(() => undefined);
    try {
      if (!response.body) throw new HubError('network', `download of ${what} failed: the hub sent no body`);
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        touch();
        if (!out.write(chunk)) await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), writeFailed]);
        loaded += chunk.byteLength;
        report(false);
      }
      await Promise.race([new Promise<void>((r) => out.end(r)), writeFailed]);
    } catch (err) {
      out.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      if (code && /^E[A-Z]+$/.test(code) && code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET') {
        // A full disk: what we have is useless, and it takes the space the user needs back.
        await removePartial(dest);
        throw writeError(err, what, dir);
      }
      throw fail(err);
    }
    report(true);
    if (Number.isFinite(total) && loaded !== total) {
      throw new HubError('network', `download of ${what} was cut short: ${loaded} of ${total} bytes arrived`);
    }
    try {
      const handle = await open(partOf(dest), 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partOf(dest), dest);
      await rm(metaOf(dest), { force: true });
    } catch (err) {
      throw writeError(err, what, dir);
    }
  } finally {
    clearTimeout(idleTimer);
  }
}

function totalFromContentRange(header: string | null): number | null {
  const match = header ? /\/(\d+)\s*$/.exec(header) : null;
  return match ? Number(match[1]) : null;
}
