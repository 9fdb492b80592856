// bench:peers' rounds: the engines alternate which goes first, and each case's figures are the
// median of its runs (peak RSS the largest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alternate, ratiosOf } from '../../../scripts/peers/peerFigures.js';

test('alternate: first a then b, then b then a; medians, the largest peak RSS', async () => {
  const order: string[] = [];
  let n = 0;
  const run = (name: string) => async () => {
    order.push(name);
    n++;
    return { ttftMs: n, decodeTokPerS: 10 * n, peakRssMB: 100 + n };
  };
  const [a, b] = await alternate(3, [run('a'), run('b')]);
  assert.deepEqual(order, ['a', 'b', 'b', 'a', 'a', 'b']);
  // a ran 1st, 4th, 5th; b 2nd, 3rd, 6th.
  assert.deepEqual(a, { ttftMs: 4, decodeTokPerS: 40, peakRssMB: 105 });
  assert.deepEqual(b, { ttftMs: 3, decodeTokPerS: 30, peakRssMB: 106 });
  assert.deepEqual(ratiosOf(a!, b!), { ttftMs: 1.333, decodeTokPerS: 1.333, peakRssMB: 0.991 });
});
