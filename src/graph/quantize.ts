// Symmetric int8 weight quantization with one scale per output column, the layout
// com.microsoft DynamicQuantizeMatMul takes: B int8 [K, N] and b_scale float [N],
// dequantized as B[k][n] * scale[n] (zero point 0).

export interface QuantizedMatrix {
  /** Row-major [K, N]. */
  values: Int8Array;
  /** One per column: N. */
  scales: Float32Array;
}

const INT8_LIMIT = 127;

function scaleFor(maxAbs: number): number {
  return maxAbs > 0 ? maxAbs / INT8_LIMIT : 1;
}

function quantizeValue(value: number, scale: number): number {
  return Math.max(-INT8_LIMIT, Math.min(INT8_LIMIT, Math.round(value / scale)));
}

/** Quantizes a row-major [rows, cols] matrix column by column. */
export function quantizeColumns(matrix: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const maxAbs = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) maxAbs[c] = Math.max(maxAbs[c], Math.abs(matrix[row + c]));
  }
  const scales = maxAbs.map(scaleFor);
  const values = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) values[row + c] = quantizeValue(matrix[row + c], scales[c]);
  }
  return { values, scales };
}

/**
 * Quantizes the transpose of a row-major [rows, cols] matrix: for a tied LM head the
 * embedding [vocab, embd] is used as B = embeddingᵀ [embd, vocab], one scale per token.
 */
export function quantizeTransposed(matrix: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const scales = new Float32Array(rows);
  const values = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    let maxAbs = 0;
    for (let c = 0; c < cols; c++) maxAbs = Math.max(maxAbs, Math.abs(matrix[row + c]));
    const scale = Math.fround(scaleFor(maxAbs));
    scales[r] = scale;
    for (let c = 0; c < cols; c++) values[c * rows + r] = quantizeValue(matrix[row + c], scale);
  }
  return { values, scales };
}
