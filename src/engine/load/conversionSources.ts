// Which of a model folder's files Parley builds its own graph from, per dtype (pure: the folder is
// seen through `has`). Best first: the fp32 file (the reference weights), the fp16 file (the same
// weights rounded to float16, widened again), then quantized files, the graph's own scheme first
// (8-bit files for q8; 4-bit MatMulNBits files for q4, whose blocks are kept when they are
// Parley's q4 scheme), then the other kind (dequantized and quantized again). An fp32 graph is
// built only from a float file: from 4 or 8 bits it would be fp32 in name only.

import { EIGHT_BIT, findOnnxFile, onnxFileFor } from '../../hub/dtypeFiles.js';
import type { Dtype } from '../../hub/dtypes.js';
import type { Precision } from '../../graph/projection.js';

const FLOAT_SOURCES: readonly Dtype[] = ['fp32', 'fp16'];
const FOUR_BIT: readonly Dtype[] = ['q4', 'q4f16'];

/** The files' dtypes a `precision` graph may be built from, best first. */
export function sourceOrder(precision: Precision): readonly Dtype[] {
  if (precision === 'fp32') return FLOAT_SOURCES;
  return precision === 'q8' ? [...FLOAT_SOURCES, ...EIGHT_BIT, ...FOUR_BIT] : [...FLOAT_SOURCES, ...FOUR_BIT, ...EIGHT_BIT];
}

export interface ConversionSource {
  /** The file, relative to the folder (onnx/…). */
  file: string;
  dtype: Dtype;
}

/** The best file in the folder to build `precision` from, or null when it has none of them. */
export function pickSource(precision: Precision, has: (file: string) => boolean): ConversionSource | null {
  for (const dtype of sourceOrder(precision)) {
    const found = findOnnxFile(dtype, has);
    if (found) return { file: found.file, dtype };
  }
  return null;
}

/** Whether a file of `dtype` holds the weights at full precision (the probe against it can be exact). */
export function isExactSource(dtype: Dtype): boolean {
  return dtype === 'fp32';
}

/**
 * The graph to build when the user chose no dtype and the folder's default file is `dtype`:
 * the same weights in Parley's nearest precision (fp16 → fp32, any 8-bit file → q8, q4f16 → q4).
 */
export function precisionFor(dtype: Dtype): Precision {
  if (dtype === 'fp32' || dtype === 'fp16') return 'fp32';
  return (EIGHT_BIT as readonly Dtype[]).includes(dtype) ? 'q8' : 'q4';
}

/** For messages: the files a `precision` graph is built from, best first. */
export function describeSources(precision: Precision): string {
  return sourceOrder(precision)
    .map((dtype) => onnxFileFor(dtype).slice('onnx/'.length))
    .join(', ');
}
