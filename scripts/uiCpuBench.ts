// How much CPU the UI thread spends while a reply streams, against the
// engine's. The real Ink app (prepareChatApp) shows a session of 300 turns and renders to a
// non-TTY sink; replies come from the real worker engine until 500 tokens have streamed.
//
// Method: per-thread CPU time from /proc (threadCpu.ts). The numerator is the main thread
// (React, Ink, the controller, the session layer). The denominator is the threads that
// appeared when the engine started: its worker thread and onnxruntime's intra-op threads.
// Threads that existed before (V8's platform helpers, libuv's pool) serve both sides and
// count for neither.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { render } from 'ink';
import type { Dtype } from '../src/engine/protocol.js';
import { createEngine } from '../src/engine/worker/workerEngineClient.js';
import { addUser, appendReply } from '../src/prompt/conversation.js';
import { newSession, SessionStore } from '../src/session/sessionStore.js';
import { INK_OPTIONS, prepareChatApp } from '../src/ui/runChatApp.js';
import { tapDone } from './benchEngine.js';
import { cpuNsOf, threadIds } from './threadCpu.js';

const TRANSCRIPT_TURNS = 300;
const STREAMED_TOKENS = 500;

export interface UiCpuResult {
  /** Main-thread CPU over the engine threads' CPU while the tokens streamed. */
  fraction: number;
  mainCpuMs: number;
  engineCpuMs: number;
  tokens: number;
  wallMs: number;
  /** Bytes Ink wrote to the terminal meanwhile: a frame taller than the terminal rewrites the whole transcript. */
  bytesWritten: number;
  /** Frames Ink drew meanwhile, and the time its renderer took for them. */
  inkFrames: number;
  inkRenderMs: number;
}

/** A terminal that is not one: 100 columns, everything written is counted and dropped. */
function sinkTerminal(): { stream: NodeJS.WriteStream; bytes: () => number } {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  return { stream: Object.assign(sink, { columns: 100, rows: 40, isTTY: false }) as unknown as NodeJS.WriteStream, bytes: () => bytes };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function within(promise: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * PARLEY_BENCH_CPU_PROFILE=file: a V8 CPU profile of the main thread over the measured
 * window only (node --cpu-prof would also take in module loading and the first paint).
 */
async function startProfile(): Promise<{ stop: () => Promise<void> } | null> {
  const file = process.env['PARLEY_BENCH_CPU_PROFILE'];
  if (!file) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** `markdown`: replies shown as Markdown (the setting), or as plain text. */
export async function uiMainThreadCpu(modelDir: string, dtype: Dtype, sentences: readonly string[], markdown = true): Promise<UiCpuResult> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-ui-'));
  const store = new SessionStore(path.join(root, 'sessions'));
  let conversation = newSession('long').conversation;
  for (let i = 0; i < TRANSCRIPT_TURNS; i += 2) {
    conversation = appendReply(addUser(conversation, sentences[i % sentences.length]!), sentences[(i + 1) % sentences.length]!);
  }
  await store.save({ ...newSession('long'), conversation });

  const before = new Set(threadIds());
  const worker = createEngine({ cacheDir: path.join(root, 'cache') });
  let tokens = 0;
  let replied: (() => void) | null = null;
  const engine = tapDone(worker, (done) => {
    tokens += done.generatedTokens;
    replied?.();
  });
  const terminal = sinkTerminal();
  try {
    const { element, controller } = await prepareChatApp({
      args: { offline: true, resume: false, session: 'long' },
      flags: { model: modelDir, dtype, maxNewTokens: STREAMED_TOKENS, seed: 1, markdown },
      stored: {},
      store,
      cacheDir: path.join(root, 'cache'),
      engine,
      env: { PARLEY_DATA_DIR: path.join(root, 'data'), PARLEY_CONFIG_DIR: path.join(root, 'config'), NO_COLOR: '1' },
    });
    const stdin = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.ReadStream;
    let inkFrames = 0;
    let inkRenderMs = 0;
    const onRender = ({ renderTime }: { renderTime: number }): void => {
      inkFrames++;
      inkRenderMs += renderTime;
    };
    const ui = render(element, { ...INK_OPTIONS, stdout: terminal.stream, stdin, patchConsole: false, onRender });
    controller.start();
    await until(() => worker.model !== null && !controller.chat.turns.busy, 120_000, 'the model to load');
    await sleep(500); // the context count and first paint settle
    const engineThreads = threadIds().filter((tid) => !before.has(tid));
    const main = [process.pid];

    const t0 = performance.now();
    const bytes0 = terminal.bytes();
    const frames0 = inkFrames;
    const renderMs0 = inkRenderMs;
    const profiler = await startProfile();
    const main0 = cpuNsOf(main);
    const engine0 = cpuNsOf(engineThreads);
    for (let i = 0; tokens < STREAMED_TOKENS; i++) {
      // Waited for without polling: a timer every few milliseconds would be measured as the UI's.
      const reply = new Promise<void>((resolve) => (replied = resolve));
      controller.submit(sentences[(i * 3) % sentences.length]!);
      await within(reply, 300_000, 'a reply');
      await controller.chat.turns.settled();
    }
    const mainNs = cpuNsOf(main) - main0;
    const engineNs = cpuNsOf(engineThreads) - engine0;
    const wallMs = performance.now() - t0;
    const bytesWritten = terminal.bytes() - bytes0;
    await profiler?.stop();
    await controller.exit();
    ui.unmount();
    if (bytesWritten === 0) throw new Error('the UI rendered nothing');
    return {
      fraction: mainNs / engineNs,
      mainCpuMs: mainNs / 1e6,
      engineCpuMs: engineNs / 1e6,
      tokens,
      wallMs,
      bytesWritten,
      inkFrames: inkFrames - frames0,
      inkRenderMs: inkRenderMs - renderMs0,
    };
  } finally {
    await worker.dispose();
    await rm(root, { recursive: true, force: true });
  }
}
