// Which files of a hub repository Parley needs for a dtype. Pure, and it mirrors what
// transformers.js reads from a folder for a decoder-only text model (config, tokenizer,
// one onnx/model*.onnx, or onnx/decoder_model_merged*.onnx in a repository named before
// transformers.js v3, and its external data chunks), so that after Parley's own download
// the folder loads with no request at all.
import { DTYPES, type Dtype } from './dtypes.js';
import { DTYPE_SUFFIX, MODEL_FILE_STEMS, type ModelFileStem, onnxFileFor } from './dtypeFiles.js';

export { DTYPE_SUFFIX, MODEL_FILE_STEMS, onnxFileFor };

/** The dtype whose decoder file `file` (a repository path) is, under either naming, or null. */
export function dtypeOfFile(file: string): Dtype | null {
  const match = /^onnx\/(?:model|decoder_model_merged)(_[a-z0-9]+)?\.onnx$/.exec(file);
  if (!match) return null;
  const suffix = match[1] ?? '';
  return DTYPES.find((d) => DTYPE_SUFFIX[d] === suffix) ?? null;
}

/** Dtypes present in a list of repository paths, in DTYPES order. */
export function dtypesIn(files: Iterable<string>): Dtype[] {
  const found = new Set<Dtype>();
  for (const f of files) {
    const d = dtypeOfFile(f);
    if (d) found.add(d);
  }
  return DTYPES.filter((d) => found.has(d));
}

/** The config files every load reads, before the model file. */
export const CONFIG_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
/** Read when present; a repository without them still loads. */
export const OPTIONAL_FILES = ['generation_config.json'] as const;

/**
 * The external data chunks of a model file, as transformers.js names them:
 * `transformers.js_config.use_external_data_format` in config.json is true (one chunk),
 * a count, or an object keyed by file name.
 */
export function externalDataFiles(config: Record<string, unknown>, dtype: Dtype, stem: ModelFileStem = 'model'): string[] {
  const custom = config['transformers.js_config'];
  const setting =
    custom !== null && typeof custom === 'object' ? (custom as Record<string, unknown>)['use_external_data_format'] : undefined;
  const fullName = `${stem}${DTYPE_SUFFIX[dtype]}.onnx`;
  let chunks = 0;
  if (setting !== null && typeof setting === 'object') {
    const table = setting as Record<string, unknown>;
    chunks = Number(table[fullName] ?? table[stem] ?? 0);
  } else if (setting !== undefined && setting !== null) {
    chunks = Number(setting);
  }
  if (!Number.isInteger(chunks) || chunks < 0) chunks = 0;
  return Array.from({ length: chunks }, (_, i) => `onnx/${fullName}_data${i === 0 ? '' : `_${i}`}`);
}

/** The model files for `dtype` under the naming `stem`, given the repository's config.json. */
export function modelFilesFor(config: Record<string, unknown>, dtype: Dtype, stem: ModelFileStem = 'model'): string[] {
  return [onnxFileFor(dtype, stem), ...externalDataFiles(config, dtype, stem)];
}
