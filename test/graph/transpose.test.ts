// The tiled transpose against the definition, across tile edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { transposeMatrix } from '../../src/graph/transpose.js';

test('transposeMatrix puts [r, c] at [c, r] for any shape, int8 and float32', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 150 }), fc.boolean(), (rows, cols, int8) => {
      const values = int8
        ? Int8Array.from({ length: rows * cols }, (_, i) => (i % 251) - 125)
        : Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5);
      const out = transposeMatrix(values, rows, cols);
      assert.equal(out.constructor, values.constructor);
      assert.equal(out.length, values.length);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) assert.equal(out[c * rows + r], values[r * cols + c]);
    }),
    { numRuns: 60 },
  );
});
