// One Parley case of `npm run bench:peers`, in a fresh process (run under /usr/bin/time for
// its peak RSS): load DIR with DTYPE in the real worker engine, warm up, then one greedy
// generation of 128 forced tokens after a prompt of N tokens. Prints one JSON line, with the
// graph the engine ran (converted or the export as it is, and why).
//   node --single-threaded-gc dist/scripts/peerParleyRun.js DIR DTYPE N [--no-convert]
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { DTYPES, type Dtype } from '../src/engine/protocol.js';
import { createEngine } from '../src/engine/worker/workerEngineClient.js';
import { GREEDY_FULL_LENGTH, helloPrompt } from './benchParams.js';

const [dir, dtypeArg, lengthArg, flag] = process.argv.slice(2);
const dtype = dtypeArg as Dtype;
const n = Number(lengthArg);
if (!dir || !DTYPES.includes(dtype) || !Number.isInteger(n) || n < 1 || (flag !== undefined && flag !== '--no-convert')) {
  throw new Error('usage: peerParleyRun DIR DTYPE PROMPT_TOKENS [--no-convert]');
}
const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-peer-'));
const engine = createEngine({ cacheDir, prefixCache: false });
try {
  const info = await engine.load(dir, { dtype, offline: true, ...(flag ? { noConvert: true } : {}) });
  for await (const e of engine.generate('warm up'.repeat(8), { ...GREEDY_FULL_LENGTH, maxNewTokens: 16, minNewTokens: 16 })) void e;
  // Process CPU (every thread) from the request to the first token, and per token after it:
  // wall-clock TTFT moves with whatever else the machine runs.
  const cpuMs = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const started = cpuMs();
  let firstTokenCpu: number | undefined;
  for await (const e of engine.generate(helloPrompt(n), GREEDY_FULL_LENGTH)) {
    firstTokenCpu ??= cpuMs();
    if (e.type !== 'done') continue;
    if (e.reason !== 'length') throw new Error(`generation ended early: ${e.reason} ${e.error ?? ''}`);
    if (e.promptTokens !== n) throw new Error(`prompt was ${e.promptTokens} tokens, wanted ${n}`);
    const graph = info.graph?.note ?? null;
    // PARLEY_Q4_PREFILL=q8 in the environment: a q4 model's prompts through its q8 file.
    const prefill = info.prefillFile ?? null;
    const ttftCpuMs = Math.round(firstTokenCpu - started);
    const decodeCpuMsPerToken = Math.round(((cpuMs() - firstTokenCpu) / Math.max(1, e.generatedTokens - 1)) * 100) / 100;
    console.log(
      JSON.stringify({
        ttftMs: e.ttftMs,
        decodeTokPerS: e.tokensPerSecond,
        ttftCpuMs,
        decodeCpuMsPerToken,
        generated: e.generatedTokens,
        graph,
        prefill,
      }),
    );
  }
} finally {
  await engine.dispose();
  await rm(cacheDir, { recursive: true, force: true });
}
