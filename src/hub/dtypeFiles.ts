// Which ONNX file of a model Parley loads. A model folder has some of transformers.js's
// dtype files: `onnx/model{suffix}.onnx` as transformers.js v3+ names them, or, in
// repositories converted before v3 (Xenova/distilgpt2), `onnx/decoder_model_merged{suffix}.onnx`
// beside `decoder_model*.onnx` and `decoder_with_past_model*.onnx`, which Parley does not need.
// Hub models cannot be listed offline, so the well-known aliases say which of theirs to take.
//
// The rule (also in the README): a dtype the user chose (--dtype, the dtype setting, or a
// session's remembered dtype) is loaded or refused. Otherwise an alias loads the dtype
// listed for it, and a folder loads fp32 if it has it, else the first file it has in the
// order of DEFAULT_ORDER. Under either rule the current name wins over the legacy one.
import type { Dtype } from './dtypes.js';

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

/**
 * The names a decoder's file goes by, current first: transformers.js's `model_file_name`.
 * `decoder_model_merged` is Optimum's merged decoder under the pre-v3 naming.
 */
export const MODEL_FILE_STEMS = ['model', 'decoder_model_merged'] as const;
export type ModelFileStem = (typeof MODEL_FILE_STEMS)[number];

export function onnxFileFor(dtype: Dtype, stem: ModelFileStem = 'model'): string {
  return `onnx/${stem}${DTYPE_SUFFIX[dtype]}.onnx`;
}

/** The file of `dtype` in a folder whose files pass `has`, under either naming, or null. */
export function findOnnxFile(dtype: Dtype, has: (file: string) => boolean): { file: string; stem: ModelFileStem } | null {
  for (const stem of MODEL_FILE_STEMS) {
    const file = onnxFileFor(dtype, stem);
    if (has(file)) return { file, stem };
  }
  return null;
}

/**
 * fp32 first (the reference numbers); then the files onnxruntime runs fast on a CPU (8-bit
 * and 4-bit integer matmuls); fp16 last, which a CPU computes by converting to fp32.
 */
export const DEFAULT_ORDER: readonly Dtype[] = ['fp32', 'q8', 'q4', 'int8', 'uint8', 'fp16', 'q4f16'];

/** The 8-bit files, in the order Parley prefers them as a source for its own q8 graph. */
export const EIGHT_BIT: readonly Dtype[] = ['q8', 'int8', 'uint8'];

export interface PickedFile {
  dtype: Dtype;
  file: string;
  stem: ModelFileStem;
}

/**
 * The dtype and file to load from a folder whose files pass `has`, or null when it has none.
 * `chosen` false means `requested` is only the default and may give way to a file that exists.
 */
export function pickDtype(requested: Dtype, chosen: boolean, has: (file: string) => boolean): PickedFile | null {
  const exact = findOnnxFile(requested, has);
  if (exact) return { dtype: requested, ...exact };
  if (chosen) return null;
  for (const dtype of DEFAULT_ORDER) {
    const found = findOnnxFile(dtype, has);
    if (found) return { dtype, ...found };
  }
  return null;
}

/** The dtypes a folder whose files pass `has` holds, under either naming, in DEFAULT_ORDER. */
export function dtypesPresent(has: (file: string) => boolean): Dtype[] {
  return DEFAULT_ORDER.filter((dtype) => findOnnxFile(dtype, has) !== null);
}
