// Memory read bandwidth with two threads, each comparing two 512 MiB buffers (memcmp streams
// both through the cache hierarchy and is vectorised, so it is bound by DRAM, not by the CPU).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const BYTES_PER_BUFFER = 512 * 1024 * 1024;
const ROUNDS = 7;

if (!isMainThread) {
  const a = Buffer.alloc(BYTES_PER_BUFFER, 7);
  const b = Buffer.alloc(BYTES_PER_BUFFER, 7);
  const start = workerData as SharedArrayBuffer;
  const flag = new Int32Array(start);
  parentPort!.postMessage('ready');
  Atomics.wait(flag, 0, 0);
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    if (!a.equals(b)) throw new Error('buffers differ');
    times.push(performance.now() - t0);
  }
  parentPort!.postMessage(times);
}

/**
 * GB/s (1e9 bytes) read by `threads` threads at once, in the fastest round: the machine is
 * shared, and other processes can only ever slow a round down, never speed it up.
 */
export async function measureBandwidth(threads = 2): Promise<number> {
  const start = new SharedArrayBuffer(4);
  const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: start }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const results = workers.map((w) => new Promise<number[]>((r) => w.once('message', r)));
  Atomics.store(new Int32Array(start), 0, 1);
  Atomics.notify(new Int32Array(start), 0);
  const times = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  const perRound = Array.from({ length: ROUNDS }, (_, r) => Math.max(...times.map((t) => t[r]!)));
  return (threads * 2 * BYTES_PER_BUFFER) / (Math.min(...perRound) / 1000) / 1e9;
}
