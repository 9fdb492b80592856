import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type MachineLoad, shouldSpin, spinningFromEnv } from '../../../src/engine/threads/threading.js';
import { decodeSessionOptions } from '../../../src/engine/load/modelLoader.js';
import { busySecondsFromProcStat, startCpuProbe } from '../../../src/engine/threads/cpuProbe.js';
import os from 'node:os';
import { formatStats } from '../../../src/chat/commands/reports.js';

const spinning = ({ options }: { options: Record<string, unknown> }): unknown =>
  (options as { extra: { session: { intra_op: { allow_spinning: string } } } }).extra.session.intra_op.allow_spinning;

test("auto spins only while a core is free for each of onnxruntime's extra threads", () => {
  assert.equal(shouldSpin('auto', { kind: 'loadAverage', loadAverage: 0.3, cores: 2 }), true);
  assert.equal(shouldSpin('auto', { kind: 'loadAverage', loadAverage: 1.0, cores: 2 }), true);
  assert.equal(shouldSpin('auto', { kind: 'loadAverage', loadAverage: 1.2, cores: 2 }), false);
  assert.equal(shouldSpin('auto', { kind: 'loadAverage', loadAverage: 15, cores: 2 }), false);
  assert.equal(shouldSpin('auto', { kind: 'loadAverage', loadAverage: 5, cores: 8 }), false);
  assert.equal(shouldSpin('auto', { kind: 'loadAverage', loadAverage: 0.5, cores: 1 }), true);
  assert.equal(shouldSpin('on', { kind: 'loadAverage', loadAverage: 15, cores: 2 }), true);
  assert.equal(shouldSpin('off', { kind: 'loadAverage', loadAverage: 0, cores: 2 }), false);
});

test('auto from a measurement of the other processes: a core for each onnxruntime thread, half a core of slack', () => {
  assert.equal(shouldSpin('auto', { kind: 'others', busyCores: 0.1, cores: 2 }), true);
  assert.equal(shouldSpin('auto', { kind: 'others', busyCores: 0.4, cores: 2 }), true);
  assert.equal(shouldSpin('auto', { kind: 'others', busyCores: 0.8, cores: 2 }), false);
  assert.equal(shouldSpin('auto', { kind: 'others', busyCores: 2, cores: 2 }), false);
  assert.equal(shouldSpin('auto', { kind: 'others', busyCores: 0.3, cores: 8 }), true);
  assert.equal(shouldSpin('auto', { kind: 'others', busyCores: 3, cores: 8 }), false);
});

test('/proc/stat: busy seconds are all but idle and iowait', () => {
  assert.equal(busySecondsFromProcStat('cpu  100 20 30 500 7 1 2 3 0 0\ncpu0 1 2 3 4\n'), 1.56);
  assert.equal(busySecondsFromProcStat('intr 1 2 3'), null);
  assert.equal(busySecondsFromProcStat('cpu a b c d e'), null);
});

test('startCpuProbe measures a window of at least a quarter second and never a negative load', async () => {
  const started = performance.now();
  const load = await startCpuProbe().finish();
  assert.ok(performance.now() - started >= 240);
  assert.equal(load.cores, os.availableParallelism());
  if (load.kind === 'others') assert.ok(load.busyCores >= 0);
});

test('PARLEY_SPIN forces the choice; a wrong value is named', async () => {
  assert.equal(spinningFromEnv(undefined), 'auto');
  assert.equal(spinningFromEnv('on'), 'on');
  assert.throws(() => spinningFromEnv('yes'), /PARLEY_SPIN must be on, off or auto, not "yes"/);
  assert.equal(spinning(await decodeSessionOptions({}, () => ({ kind: 'loadAverage', loadAverage: 0.2, cores: 2 }))), '1');
  assert.equal(spinning(await decodeSessionOptions({}, () => ({ kind: 'loadAverage', loadAverage: 6, cores: 2 }))), '0');
  assert.equal(
    spinning(await decodeSessionOptions({ PARLEY_SPIN: 'off' }, () => ({ kind: 'loadAverage', loadAverage: 0.2, cores: 2 }))),
    '0',
  );
  assert.equal(
    spinning(
      await decodeSessionOptions({ PARLEY_ORT_THREADING: 'threads=1,spin=1' }, () => ({ kind: 'loadAverage', loadAverage: 9, cores: 2 })),
    ),
    '1',
  );
});

test('/stats names the threading choice and why', async () => {
  const { threading } = await decodeSessionOptions({}, () => ({ kind: 'others', busyCores: 1.7, cores: 2 }), 2);
  assert.deepEqual(threading, { spinning: false, threads: 2, why: 'cores busy when the model loaded: others kept 1.7 of 2 busy' });
  assert.match(
    formatStats({ persona: null, turns: [] }, undefined, threading),
    /Threads: 2 onnxruntime threads, which do not spin between parallel work \(cores busy when the model loaded: others kept 1\.7 of 2 busy\)\./,
  );
  assert.equal(
    (await decodeSessionOptions({ PARLEY_SPIN: 'on' }, () => ({ kind: 'others', busyCores: 2, cores: 2 }))).threading.why,
    'PARLEY_SPIN=on',
  );
});

test('onnxruntime gets one intra-op thread per core, set explicitly (its own default ran one thread on a 2-core machine)', async () => {
  const idle = (): MachineLoad => ({ kind: 'others', busyCores: 0, cores: 2 });
  for (const cores of [1, 2, 8]) {
    const { options, threading } = await decodeSessionOptions({}, idle, cores);
    assert.equal(options['intraOpNumThreads'], cores);
    assert.equal(threading.threads, cores);
  }
  assert.equal((await decodeSessionOptions({ PARLEY_ORT_THREADING: 'threads=1,spin=1' }, idle, 2)).options['intraOpNumThreads'], 1);
  assert.equal((await decodeSessionOptions({ PARLEY_ORT_THREADING: 'spin=0' }, idle, 2)).options['intraOpNumThreads'], 2);
});
