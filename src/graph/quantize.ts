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
 * Quantizes each row of a row-major [rows, cols] matrix with a scale of its own: a tied
 * embedding [vocab, embd], one scale per token. The values stay [rows, cols], the lookup's
 * layout; the LM head takes their transpose, B = embeddingᵀ [embd, vocab].
 */
export function quantizeRows(matrix: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const scales = new Float32Array(rows);
  const values = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    let maxAbs = 0;
    for (let c = 0; c < cols; c++) maxAbs = Math.max(maxAbs, Math.abs(matrix[row + c]));
    const scale = Math.fround(scaleFor(maxAbs));
    scales[r] = scale;
    for (let c = 0; c < cols; c++) values[row + c] = quantizeValue(matrix[row + c], scale);
  }
  return { values, scales };
}

/** 4-bit blocks of 32 along K, one float scale per block, value = (q − 8) × scale. */
export const Q4_BLOCK = 32;

export interface Q4Matrix {
  /** MatMulNBits' B: [N, blocks, 16] bytes, column n's block b; low nibble first. */
  packed: Uint8Array;
  /** [N, blocks]. */
  scales: Float32Array;
  blocks: number;
}

/**
 * Quantizes one block of values as llama.cpp's Q4_0 does: the scale maps the value of
 * largest magnitude to −8, so the whole 16-step range is used. Writes nibbles into `out`
 * (two per byte, element 2i in the low nibble) and returns the scale.
 */
export function quantizeBlock4(values: ArrayLike<number>, out: Uint8Array, outOffset: number, lowHigh: 'interleaved' | 'split'): number {
  let extreme = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]!) > Math.abs(extreme)) extreme = values[i]!;
  const scale = Math.fround(extreme / -8);
  const inverse = scale === 0 ? 0 : 1 / scale;
  const half = values.length / 2;
  for (let i = 0; i < half; i++) {
    // interleaved (MatMulNBits): bytes hold elements (2i, 2i+1); split (GGUF Q4_0): (i, i + 16).
    const a = lowHigh === 'interleaved' ? values[2 * i]! : values[i]!;
    const b = lowHigh === 'interleaved' ? values[2 * i + 1]! : values[i + half]!;
    const qa = Math.min(15, Math.max(0, Math.round(a * inverse) + 8));
    const qb = Math.min(15, Math.max(0, Math.round(b * inverse) + 8));
    out[outOffset + i] = qa | (qb << 4);
  }
  return scale;
}

/** Quantizes a row-major [rows = K, cols = N] matrix for MatMulNBits (bits 4, block 32). */
export function quantizeQ4(matrix: Float32Array, rows: number, cols: number): Q4Matrix {
  const blocks = Math.ceil(rows / Q4_BLOCK);
  const packed = new Uint8Array(cols * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(cols * blocks);
  const block = new Float32Array(Q4_BLOCK);
  for (let c = 0; c < cols; c++) {
    for (let b = 0; b < blocks; b++) {
      block.fill(0);
      for (let i = 0; i < Q4_BLOCK && b * Q4_BLOCK + i < rows; i++) block[i] = matrix[(b * Q4_BLOCK + i) * cols + c]!;
      const index = c * blocks + b;
      scales[index] = quantizeBlock4(block, packed, index * (Q4_BLOCK / 2), 'interleaved');
    }
  }
  return { packed, scales, blocks };
}
