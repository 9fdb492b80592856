import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyText } from '../../src/engine/reply/replyText.js';
import { argmax, createRng, sampleNextToken } from '../../src/engine/generate/sampling.js';
import { resolveModelRef } from '../../src/engine/load/modelRefs.js';
import { checkLimit } from '../../src/engine/generate/contextLimit.js';

function feed(stops: string[], pieces: string[]): { deltas: string[]; final: string; stopped: boolean } {
  const r = new ReplyText(stops);
  const deltas: string[] = [];
  let decoded = '';
  for (const p of pieces) {
    decoded += p;
    deltas.push(r.update(decoded));
    if (r.hitStop) break;
  }
  if (!r.hitStop) deltas.push(r.finish(decoded));
  return { deltas, final: r.text, stopped: r.hitStop };
}

test('stop sequence split across tokens is cut and never shown in part', () => {
  const { deltas, final, stopped } = feed(['\nUser:'], ['Hello', ' there', '\n', 'Us', 'er', ': more']);
  assert.equal(stopped, true);
  assert.equal(final, 'Hello there');
  assert.equal(deltas.join(''), final);
  assert.ok(
    deltas.every((d) => !d.includes('\n')),
    'no part of the marker leaks',
  );
});

test('held-back text that turns out not to be a stop is released', () => {
  const { deltas, final, stopped } = feed(['\nUser:'], ['a', '\n', 'Us', 'ually']);
  assert.equal(stopped, false);
  assert.equal(final, 'a\nUsually');
  assert.equal(deltas.join(''), final);
});

test('an incomplete UTF-8 character is held until complete', () => {
  const r = new ReplyText([]);
  assert.equal(r.update('ok \uFFFD'), 'ok ');
  assert.equal(r.update('ok 😀'), '😀');
  assert.equal(r.text, 'ok 😀');
});

test('a held suffix is released at the end of the reply', () => {
  const { final, deltas } = feed(['\nUser:'], ['bye', '\nUse']);
  assert.equal(final, 'bye\nUse');
  assert.equal(deltas.join(''), 'bye\nUse');
});

test('temperature 0 is argmax; repetition penalty lowers seen tokens', () => {
  const logits = Float32Array.from([1, 5, 3, 4.9]);
  assert.equal(sampleNextToken(logits.slice(), { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 }, new Set(), Math.random), 1);
  assert.equal(sampleNextToken(logits.slice(), { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.5 }, new Set([1]), Math.random), 3);
  assert.equal(argmax(Float32Array.from([-3, -1, -2])), 1);
});

test('top-k 1 and top-p tiny always pick the best token; same seed, same draws', () => {
  const logits = new Float32Array(1000).map((_, i) => Math.sin(i) * 3);
  const best = argmax(logits);
  const rng = createRng(7);
  for (let i = 0; i < 20; i++) {
    assert.equal(sampleNextToken(logits.slice(), { temperature: 1, topK: 1, topP: 1, repetitionPenalty: 1 }, new Set(), rng), best);
    assert.equal(sampleNextToken(logits.slice(), { temperature: 1, topK: 0, topP: 1e-9, repetitionPenalty: 1 }, new Set(), rng), best);
  }
  const draw = (seed: number): number[] => {
    const r = createRng(seed);
    return Array.from({ length: 50 }, () =>
      sampleNextToken(logits.slice(), { temperature: 1, topK: 50, topP: 0.95, repetitionPenalty: 1 }, new Set(), r),
    );
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
});

test('top-k sampling only returns tokens among the k best', () => {
  const logits = new Float32Array(500).map((_, i) => Math.cos(i * 1.7));
  const sorted = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
  const allowed = new Set(sorted.slice(0, 5));
  const rng = createRng(3);
  for (let i = 0; i < 200; i++) {
    const t = sampleNextToken(logits.slice(), { temperature: 2, topK: 5, topP: 1, repetitionPenalty: 1 }, new Set(), rng);
    assert.ok(allowed.has(t));
  }
});

test('model refs: aliases, hub ids, folders, demo', () => {
  assert.deepEqual(resolveModelRef('gpt2', '/w', '/h'), { kind: 'hub', id: 'Xenova/gpt2' });
  assert.deepEqual(resolveModelRef('Xenova/distilgpt2', '/w', '/h'), { kind: 'hub', id: 'Xenova/distilgpt2' });
  assert.deepEqual(resolveModelRef('./m', '/w', '/h'), { kind: 'folder', path: '/w/m' });
  assert.deepEqual(resolveModelRef('/abs/m', '/w', '/h'), { kind: 'folder', path: '/abs/m' });
  assert.deepEqual(resolveModelRef('~/m', '/w', '/h'), { kind: 'folder', path: '/h/m' });
  assert.deepEqual(resolveModelRef('demo', '/w', '/h'), { kind: 'demo' });
});

test('the context limit refuses prompt + max tokens over n_positions', () => {
  assert.equal(checkLimit(896, 128, 1024), null);
  assert.match(checkLimit(897, 128, 1024) ?? '', /exceeds the model's context of 1024 tokens/);
});

test('without top-k, top-p alone keeps only the nucleus', () => {
  const logits = new Float32Array(1000).fill(0);
  logits[10] = 12;
  logits[20] = 11.5;
  const rng = createRng(5);
  const picked = new Set<number>();
  for (let i = 0; i < 300; i++) {
    picked.add(sampleNextToken(logits.slice(), { temperature: 1, topK: 0, topP: 0.9, repetitionPenalty: 1 }, new Set(), rng));
  }
  assert.deepEqual(
    [...picked].sort((a, b) => a - b),
    [10, 20],
  );
});

test('partialStopLength finds a tail that could become a stop sequence', async () => {
  const { partialStopLength, earliestStop } = await import('../../src/engine/reply/stopSequences.js');
  const stops = ['\nUser:', '<|endoftext|>'];
  assert.equal(partialStopLength('Hello\n', stops), 1);
  assert.equal(partialStopLength('Hello\nUse', stops), 4);
  assert.equal(partialStopLength('Hello <|endo', stops), 6);
  assert.equal(partialStopLength('Hello', stops), 0);
  assert.equal(earliestStop('a<|endoftext|>b\nUser:c', stops), 1);
  assert.equal(earliestStop('plain', stops), -1);
});
