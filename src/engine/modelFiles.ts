// Which ONNX file of a model Parley loads. A model folder has some of transformers.js's
// dtype files (onnx/model.onnx, model_quantized.onnx, model_q4.onnx, ...); hub models
// cannot be listed offline, so the well-known aliases say which of theirs to take.
//
// The rule (also in the README): a dtype the user chose (--dtype, the dtype setting, or a
// session's remembered dtype) is loaded or refused. Otherwise an alias loads the dtype
// listed for it, and a folder loads fp32 if it has model.onnx, else the first file it has
// in the order of DEFAULT_ORDER.
import type { Dtype } from './protocol.js';

/** transformers.js's file suffix for each dtype (see its dtypes.js). */
export const DTYPE_SUFFIX: Readonly<Record<Dtype, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
};

export function onnxFileFor(dtype: Dtype): string {
  return `onnx/model${DTYPE_SUFFIX[dtype]}.onnx`;
}

/**
 * fp32 first (the reference numbers); then the files onnxruntime runs fast on a CPU (8-bit
 * and 4-bit integer matmuls); fp16 last, which a CPU computes by converting to fp32.
 */
export const DEFAULT_ORDER: readonly Dtype[] = ['fp32', 'q8', 'q4', 'int8', 'uint8', 'fp16', 'q4f16'];

/**
 * The dtype to load from a folder whose files pass `has`, or null when it has none of them.
 * `chosen` false means `requested` is only the default and may give way to a file that exists.
 */
export function pickDtype(requested: Dtype, chosen: boolean, has: (file: string) => boolean): Dtype | null {
  if (has(onnxFileFor(requested))) return requested;
  if (chosen) return null;
  return DEFAULT_ORDER.find((dtype) => has(onnxFileFor(dtype))) ?? null;
}
