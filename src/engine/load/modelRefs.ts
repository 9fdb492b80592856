import path from 'node:path';
import { editDistance } from '../../text/closestName.js';
import { isEndpointRef } from '../remote/endpointRef.js';
import type { Dtype } from '../protocol.js';

/**
 * Short names for hub models that ship transformers.js-compatible ONNX files
 * (`onnx/model*.onnx`), under the hub ids transformers.js's own examples use.
 */
export const MODEL_ALIASES: Readonly<Record<string, string>> = {
  gpt2: 'Xenova/gpt2',
  distilgpt2: 'Xenova/distilgpt2',
  smollm2: 'HuggingFaceTB/SmolLM2-135M-Instruct',
  'smollm2-360m': 'HuggingFaceTB/SmolLM2-360M-Instruct',
  'qwen2.5': 'onnx-community/Qwen2.5-0.5B-Instruct',
  'llama3.2': 'onnx-community/Llama-3.2-1B-Instruct',
};

/**
 * The file an alias loads when the user chose no dtype (the hub cannot be listed offline,
 * so this says which of the repository's files to take; see the README's table). The
 * SmolLM2 repositories have no model_quantized.onnx; Llama-3.2's fp32 is 4.9 GB.
 */
export const ALIAS_DTYPES: Readonly<Record<string, Dtype>> = {
  smollm2: 'fp32',
  'smollm2-360m': 'q4',
  'qwen2.5': 'q8',
  'llama3.2': 'q8',
};

/** `demo` is the small model shipped with Parley (models/demo): English, offline, no download. */
export const DEMO_MODEL = 'demo';

export type ModelSource = { kind: 'hub'; id: string; dtype?: Dtype } | { kind: 'folder'; path: string } | { kind: 'demo' };

/**
 * A ref that looks like a path (starts with `.`, `/`, `~` or names an existing-style folder with
 * a separator but no hub `owner/name` shape) is a folder; `owner/name` is a hub id. A folder
 * that happens to look like `owner/name` can always be given as `./owner/name`.
 */
export function resolveModelRef(ref: string, cwd: string, home: string): ModelSource {
  const trimmed = ref.trim();
  if (trimmed === DEMO_MODEL) return { kind: 'demo' };
  const alias = MODEL_ALIASES[trimmed];
  if (alias) {
    const dtype = ALIAS_DTYPES[trimmed];
    return dtype === undefined ? { kind: 'hub', id: alias } : { kind: 'hub', id: alias, dtype };
  }
  if (trimmed === '~' || trimmed.startsWith('~/')) return { kind: 'folder', path: path.join(home, trimmed.slice(1)) };
  if (path.isAbsolute(trimmed) || trimmed.startsWith('.') || trimmed.includes('\\')) {
    return { kind: 'folder', path: path.resolve(cwd, trimmed) };
  }
  if (/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(trimmed)) return { kind: 'hub', id: trimmed };
  // A bare name that is not an alias: treat as a folder relative to cwd, so the error names it.
  return { kind: 'folder', path: path.resolve(cwd, trimmed) };
}

/**
 * When `ref` is a bare name (no path separator, not `owner/name`, not an alias) that names no
 * folder: the one-line message, with the nearest aliases and the list; else null. Such a name
 * is far more often a mistyped alias (`qwen`) than a folder in the current directory.
 */
export function unknownModelMessage(ref: string, folderExists: boolean): string | null {
  const trimmed = ref.trim();
  if (folderExists || trimmed === DEMO_MODEL || MODEL_ALIASES[trimmed] !== undefined) return null;
  if (/[\\/]/.test(trimmed) || trimmed.startsWith('.') || trimmed.startsWith('~')) return null;
  const names = [DEMO_MODEL, ...Object.keys(MODEL_ALIASES)];
  const lower = trimmed.toLowerCase();
  const near = names.filter((n) => n.startsWith(lower) || lower.startsWith(n) || editDistance(lower, n) <= 2);
  const hint = near.length > 0 ? `did you mean ${near.join(' or ')}? ` : '';
  return `unknown model "${trimmed}": not an alias, a hub id (owner/name) or a folder here; ${hint}aliases: ${names.join(', ')}`;
}

/** The ref to remember (in a session, in settings): folders become absolute, so they work from any directory. */
export function canonicalModelRef(ref: string, cwd: string, home: string): string {
  // A model on a server (endpoint:NAME@URL) is no path.
  if (isEndpointRef(ref)) return ref.trim();
  const source = resolveModelRef(ref, cwd, home);
  return source.kind === 'folder' ? source.path : ref.trim();
}
