// The one 2-D transpose the graph builders and readers share.

const TILE = 64;

/** A row-major [rows, cols] matrix as [cols, rows], in tiles (a table of tens of MB otherwise misses the cache on every write). */
export function transposeMatrix<T extends Int8Array | Float32Array>(values: T, rows: number, cols: number): T {
  const out = new (values.constructor as new (length: number) => T)(values.length);
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const rEnd = Math.min(rows, r0 + TILE);
      const cEnd = Math.min(cols, c0 + TILE);
      for (let r = r0; r < rEnd; r++) {
        for (let c = c0; c < cEnd; c++) out[c * rows + r] = values[r * cols + c]!;
      }
    }
  }
  return out;
}
