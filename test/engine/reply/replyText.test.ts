// ReplyText fed token by token (append, end) shows exactly what it shows fed the whole text
// so far (update, finish): stops cut and never shown in part, deltas adding up to the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReplyText } from '../../../src/engine/reply/replyText.js';

const ATOMS = ['a', 'b', '\n', 'User', ':', 'Us', 'er:', ' ', '\uFFFD', '<|', 'im_end', '|>', 'é', '😀', 'x'];
const pieces = fc.array(
  fc.array(fc.constantFrom(...ATOMS), { maxLength: 3 }).map((a) => a.join('')),
  { maxLength: 30 },
);
const stops = fc.array(fc.oneof(fc.constantFrom('\nUser:', '<|im_end|>', 'b\uFFFD', 'aa', 'x', ''), fc.string({ maxLength: 4 })), {
  maxLength: 3,
});

function byWholeText(stopList: string[], parts: string[]): { deltas: string[]; text: string; stopped: boolean } {
  const r = new ReplyText(stopList);
  const deltas: string[] = [];
  let decoded = '';
  for (const p of parts) {
    decoded += p;
    deltas.push(r.update(decoded));
    if (r.hitStop) break;
  }
  if (!r.hitStop) deltas.push(r.finish(decoded));
  return { deltas, text: r.text, stopped: r.hitStop };
}

function byPiece(stopList: string[], parts: string[]): { deltas: string[]; text: string; stopped: boolean } {
  const r = new ReplyText(stopList);
  const deltas: string[] = [];
  for (const p of parts) {
    deltas.push(r.append(p));
    if (r.hitStop) break;
  }
  if (!r.hitStop) deltas.push(r.end(''));
  return { deltas, text: r.text, stopped: r.hitStop };
}

test('appending pieces shows the same deltas as updating with the whole text', () => {
  fc.assert(
    fc.property(stops, pieces, (stopList, parts) => {
      const whole = byWholeText(stopList, parts);
      const piecewise = byPiece(stopList, parts);
      assert.deepEqual(piecewise, whole);
      assert.equal(piecewise.deltas.join(''), piecewise.text);
      const all = parts.join('');
      const cut = Math.min(...stopList.filter((s) => s !== '').map((s) => (all.includes(s) ? all.indexOf(s) : Infinity)));
      assert.equal(piecewise.text, Number.isFinite(cut) ? all.slice(0, cut) : all);
      // Nothing past the cut is ever shown.
      for (const s of stopList.filter((x) => x !== '')) assert.ok(!piecewise.text.includes(s));
    }),
    { numRuns: 2000 },
  );
});

test('a stop completed by the last text is cut there too', () => {
  const r = new ReplyText(['\nUser:']);
  assert.equal(r.append('bye\nUs'), 'bye');
  assert.equal(r.end('er:'), '');
  assert.equal(r.hitStop, true);
  assert.equal(r.text, 'bye');
});

test('a held U+FFFD is shown once more text follows, and at the end', () => {
  const r = new ReplyText([]);
  assert.equal(r.append('ok \uFFFD'), 'ok ');
  assert.equal(r.append('!'), '\uFFFD!');
  assert.equal(r.append('\uFFFD'), '');
  assert.equal(r.end(''), '\uFFFD');
  assert.equal(r.text, 'ok \uFFFD!\uFFFD');
});
