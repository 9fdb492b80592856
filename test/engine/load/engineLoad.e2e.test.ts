// Loading a model folder that is broken or hostile: config numbers the graph cannot serve,
// files that are not regular files, sizes no file of that format has. Each is refused at once
// with one line, and the engine goes on serving the model it had.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type WorkerEngineClient } from '../../../src/engine/worker/workerEngineClient.js';
import { EngineError } from '../../../src/engine/engineClient.js';
import { configNumbersProblem, positionTableProblem } from '../../../src/engine/load/modelConfig.js';
import { positionTableRows } from '../../../src/engine/load/positionTable.js';
import { HF_LLAMA_TINY, shortContextModelDir, tinyModelDir } from '../../helpers/fixtures.js';

let engine: WorkerEngineClient;
let scratch: string;
let tiny: string;
let short: string;
let copies = 0;

before(async () => {
  tiny = await tinyModelDir();
  short = await shortContextModelDir();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-load-'));
  engine = createEngine({ cacheDir: path.join(scratch, 'cache') });
  await engine.load(tiny, { dtype: 'fp32', offline: true });
});

after(async () => {
  await engine.dispose();
  await rm(scratch, { recursive: true, force: true });
});

async function copyOf(folder: string): Promise<string> {
  const copy = path.join(scratch, `model-${copies++}`);
  await cp(folder, copy, { recursive: true });
  return copy;
}

/** Refused with model-corrupt, one line matching `pattern`, soon; the tiny model still loaded. */
async function refused(folder: string, pattern: RegExp): Promise<void> {
  const started = Date.now();
  await assert.rejects(engine.load(folder, { dtype: 'fp32', offline: true }), (err: unknown) => {
    assert.ok(err instanceof EngineError, String(err));
    assert.equal(err.code, 'model-corrupt', err.message);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), err.message);
    return true;
  });
  assert.ok(Date.now() - started < 5000, `refused after ${Date.now() - started} ms`);
  assert.equal(engine.model?.modelId, tiny);
}

async function withConfig(folder: string, change: (config: Record<string, unknown>) => void): Promise<string> {
  const copy = await copyOf(folder);
  const file = path.join(copy, 'config.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  change(config);
  await writeFile(file, JSON.stringify(config));
  return copy;
}

test('the position table is read from the graph file: GPT-2 graphs have one, rotary ones none', async () => {
  assert.equal(positionTableRows(path.join(tiny, 'onnx', 'model.onnx')), 1024);
  assert.equal(positionTableRows(path.join(short, 'onnx', 'model.onnx')), 128);
  assert.equal(positionTableRows(path.join(short, 'onnx', 'model_quantized.onnx')), 128);
  assert.equal(positionTableRows(path.join(HF_LLAMA_TINY, 'onnx', 'model.onnx')), null);
  assert.equal(positionTableProblem(1024, null), null);
  assert.equal(positionTableProblem(128, 128), null);
  assert.match(positionTableProblem(1024, 128) ?? '', /context of 1024 positions, but the graph's position table has 128/);
  assert.equal(configNumbersProblem({ n_positions: 1024, head_dim: null }), null);
  assert.match(configNumbersProblem({ n_positions: -1 }) ?? '', /n_positions is -1: it must be a whole number from 1 to/);
  assert.match(configNumbersProblem({ n_positions: '256' }) ?? '', /n_positions is "256"/);
  assert.match(configNumbersProblem({ n_positions: 1e12 }) ?? '', /n_positions is 1000000000000/);
  assert.match(configNumbersProblem({ n_layer: 2.5 }) ?? '', /n_layer is 2.5/);
});

test('config numbers the graph cannot serve are refused with one line, not served as 1024 positions', { timeout: 60_000 }, async () => {
  for (const value of [-1, '256', 1e12]) {
    const folder = await withConfig(short, (config) => {
      config['n_positions'] = value;
      delete config['n_ctx'];
    });
    await refused(folder, /config\.json's n_positions is/);
  }
  await refused(
    await withConfig(short, (config) => (config['n_positions'] = 1024)),
    /context of 1024 positions, but the graph's position table has 128/,
  );
  const info = await engine.load(await withConfig(short, (config) => delete config['n_ctx']), { dtype: 'fp32', offline: true });
  assert.equal(info.contextLength, 128);
  await engine.load(tiny, { dtype: 'fp32', offline: true });
});

/** Lets a reader or writer stuck on a FIFO go, so a run that hangs there still ends. */
function releaseFifo(file: string): void {
  for (const flags of [constants.O_WRONLY | constants.O_NONBLOCK, constants.O_RDONLY | constants.O_NONBLOCK]) {
    try {
      closeSync(openSync(file, flags));
    } catch {
      // Nobody on that side.
    }
  }
}

test(
  'a FIFO for config.json, tokenizer.json or the graph is refused at once, not waited on',
  { skip: process.platform === 'win32', timeout: 60_000 },
  async () => {
    for (const file of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) {
      const folder = await copyOf(tiny);
      const fifo = path.join(folder, file);
      await rm(fifo);
      execFileSync('mkfifo', [fifo]);
      const timer = setTimeout(() => releaseFifo(fifo), 15_000);
      try {
        await refused(folder, new RegExp(`${file.replace('.', '\\.')} is a FIFO \\(named pipe\\), not a regular file`));
      } finally {
        clearTimeout(timer);
        releaseFifo(fifo);
      }
    }
  },
);

test(
  'a graph linked to /dev/zero, or shorter than any ONNX model, is refused before it is read',
  { skip: process.platform === 'win32', timeout: 60_000 },
  async () => {
    const zero = await copyOf(tiny);
    await rm(path.join(zero, 'onnx', 'model.onnx'));
    await symlink('/dev/zero', path.join(zero, 'onnx', 'model.onnx'));
    await refused(zero, /onnx\/model\.onnx is a device, not a regular file/);
    const tinyFile = await copyOf(tiny);
    await writeFile(path.join(tinyFile, 'onnx', 'model.onnx'), 'abc');
    await refused(tinyFile, /onnx\/model\.onnx is not a file Parley can load \(3 bytes, too short for an ONNX model\)/);
  },
);
