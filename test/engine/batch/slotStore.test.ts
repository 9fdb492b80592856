// The batched KV store's capacity follows the need both ways: it grows for a long sequence
// and shrinks again once only short ones run, keeping what every slot still holds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import os from 'node:os';
import { SlotStore } from '../../../src/engine/batch/slotStore.js';
import { ROW_CAPACITY_STEP } from '../../../src/engine/decode/kvGrowth.js';
import { BatchDecoder } from '../../../src/engine/batch/batchDecoder.js';
import { loadModel, type LoadedModel } from '../../../src/engine/load/modelLoader.js';
import { tinyModelDir } from '../../helpers/fixtures.js';

/** value = slot * 1000 + head * 100 + position, in every column. */
function fill(store: SlotStore, positions: number): void {
  const data = store.buffers['k']!;
  for (let s = 0; s < store.slots; s++)
    for (let h = 0; h < store.heads; h++)
      for (let p = 0; p < positions; p++)
        data.fill(
          s * 1000 + h * 100 + p,
          ((s * store.heads + h) * store.capacity + p) * store.headDim,
          ((s * store.heads + h) * store.capacity + p + 1) * store.headDim,
        );
}

function at(store: SlotStore, slot: number, head: number, position: number): number[] {
  const from = ((slot * store.heads + head) * store.capacity + position) * store.headDim;
  return [...store.buffers['k']!.subarray(from, from + store.headDim)];
}

test('the slot store grows and shrinks with the need, keeping the first positions of every slot', () => {
  const store = new SlotStore(['k'], 2, 3, 3, 1024);
  store.fit(10, 0);
  assert.equal(store.capacity, ROW_CAPACITY_STEP);
  fill(store, 10);
  store.fit(300, 10);
  assert.equal(store.capacity, 5 * ROW_CAPACITY_STEP);
  for (let s = 0; s < 3; s++)
    for (let h = 0; h < 2; h++)
      for (const p of [0, 9])
        assert.deepEqual(at(store, s, h, p), [s * 1000 + h * 100 + p, s * 1000 + h * 100 + p, s * 1000 + h * 100 + p]);
  fill(store, 300);
  // The long sequence is over: a short batch needs 20 positions; the slots keep 50.
  store.fit(20, 50);
  assert.equal(store.capacity, ROW_CAPACITY_STEP);
  for (let s = 0; s < 3; s++)
    for (let h = 0; h < 2; h++) for (const p of [0, 25, 49]) assert.equal(at(store, s, h, p)[0], s * 1000 + h * 100 + p);
  // Keeping more than the new capacity holds keeps what fits.
  store.fit(130, 64);
  store.fit(64, 500);
  assert.equal(store.capacity, ROW_CAPACITY_STEP);
  assert.equal(at(store, 2, 1, 49)[0], 2 * 1000 + 100 + 49);
  assert.throws(() => store.fit(1025, 0), /exceed the model's 1024/);
});

test('property: any run of fits keeps, in every slot, the first positions asked for that both layouts hold', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 300 })), { minLength: 1, maxLength: 12 }),
      (steps) => {
        const store = new SlotStore(['k'], 2, 2, 3, 300);
        for (const [needed, keep] of steps) {
          const old = store.capacity;
          fill(store, old);
          store.fit(needed, keep);
          const kept = Math.min(keep, old, store.capacity);
          if (store.capacity < needed) return false;
          for (let slot = 0; slot < 3; slot++)
            for (let h = 0; h < 2; h++)
              for (const p of [0, kept >> 1, kept - 1])
                if (p >= 0 && p < kept && at(store, slot, h, p)[0] !== slot * 1000 + h * 100 + p) return false;
        }
        return true;
      },
    ),
  );
});

let model: LoadedModel;

before(async () => {
  model = await loadModel(
    { kind: 'folder', path: await tinyModelDir() },
    { dtype: 'fp32', offline: true, cacheDir: os.tmpdir() },
    () => {},
  );
});

after(async () => {
  await model?.release();
});

const argmax = (logits: Float32Array): number => logits.reduce((best, v, i) => (v > logits[best]! ? i : best), 0);
const tokens = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (i * 37 + seed) % 500);

test('after a long sequence, short batches run at a small capacity; a live long sequence keeps its cache', async () => {
  const { session, graph } = model.decoder;
  const decoder = new BatchDecoder(session, graph, 2, model.info.contextLength);
  const fresh = new BatchDecoder(session, graph, 2, model.info.contextLength);
  const long = tokens(300, 1);
  const short = tokens(5, 2);

  await decoder.step([{ slot: 0, tokens: long, length: 0 }]);
  assert.equal(decoder.store.capacity, 5 * ROW_CAPACITY_STEP);
  // The long sequence goes on generating while a short one prefills beside it: nothing shrinks.
  const [beside] = await decoder.step([{ slot: 1, tokens: short, length: 0 }], { live: 300, parked: 0 });
  assert.equal(decoder.store.capacity, 5 * ROW_CAPACITY_STEP);
  const [continued] = await decoder.step([{ slot: 0, tokens: [7], length: 300 }], { live: 5, parked: 0 });
  const [expected] = await fresh.step([{ slot: 0, tokens: [...long, 7], length: 0 }]);
  assert.equal(argmax(continued!), argmax(expected!));
  assert.ok(Math.abs(continued![argmax(expected!)]! - expected![argmax(expected!)]!) < 1e-3);

  // The long one is over and parked: the next short pass shrinks the store to its need.
  const [again] = await decoder.step([{ slot: 1, tokens: short, length: 0 }], { live: 0, parked: 301 });
  assert.equal(decoder.store.capacity, ROW_CAPACITY_STEP);
  assert.equal(argmax(again!), argmax(beside!));
  // What slot 0 still holds within the capacity is its cache's start: continuing from 40 positions matches.
  const [resumed] = await decoder.step([{ slot: 0, tokens: [9], length: 40 }], { live: 5, parked: 0 });
  const [reference] = await fresh.step([{ slot: 1, tokens: [...long.slice(0, 40), 9], length: 0 }]);
  assert.ok(Math.abs(resumed![argmax(reference!)]! - reference![argmax(reference!)]!) < 1e-3);
});

test('a pass over the last slots feeds only those slots: a lone sequence in slot 3 runs as a batch of one', async () => {
  const { session, graph } = model.decoder;
  const batches: number[] = [];
  const watched = new Proxy(session, {
    get(target, key) {
      if (key !== 'run') return Reflect.get(target, key, target);
      return (feeds: Record<string, { dims: readonly number[] }>, fetches: string[]) => {
        batches.push(feeds['input_ids']!.dims[0]!);
        return target.run(feeds as never, fetches);
      };
    },
  });
  const decoder = new BatchDecoder(watched, graph, 4, model.info.contextLength);
  const alone = new BatchDecoder(session, graph, 1, model.info.contextLength);
  const prompt = tokens(20, 3);
  const [last] = await decoder.step([{ slot: 3, tokens: prompt, length: 0 }]);
  const [next] = await decoder.step([{ slot: 3, tokens: [11], length: 20 }]);
  const [, pair] = await decoder.step([
    { slot: 2, tokens: [5, 6], length: 0 },
    { slot: 3, tokens: [12], length: 21 },
  ]);
  assert.deepEqual(batches, [1, 1, 2]);
  const [refLast] = await alone.step([{ slot: 0, tokens: prompt, length: 0 }]);
  const [refNext] = await alone.step([{ slot: 0, tokens: [11], length: 20 }]);
  const [refPair] = await alone.step([{ slot: 0, tokens: [12], length: 21 }]);
  for (const [got, want] of [
    [last, refLast],
    [next, refNext],
    [pair, refPair],
  ] as const) {
    const top = argmax(want!);
    assert.equal(argmax(got!), top);
    assert.ok(Math.abs(got![top]! - want![top]!) < 1e-3);
  }
});
