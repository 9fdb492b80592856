import path from 'node:path';
import { isEndpointRef } from './remote/endpointRef.js';

/** Short names for hub models that ship transformers.js-compatible ONNX files (`onnx/model*.onnx`). */
export const MODEL_ALIASES: Readonly<Record<string, string>> = {
  gpt2: 'Xenova/gpt2',
  distilgpt2: 'Xenova/distilgpt2',
};

/** `demo` is a GPT-2 folder Parley generates on the spot with random weights (it writes noise). */
export const DEMO_MODEL = 'demo';

export type ModelSource =
  | { kind: 'hub'; id: string }
  | { kind: 'folder'; path: string }
  | { kind: 'demo' };

/**
 * A ref that looks like a path (starts with `.`, `/`, `~` or names an existing-style folder with
 * a separator but no hub `owner/name` shape) is a folder; `owner/name` is a hub id. A folder
 * that happens to look like `owner/name` can always be given as `./owner/name`.
 */
export function resolveModelRef(ref: string, cwd: string, home: string): ModelSource {
  const trimmed = ref.trim();
  if (trimmed === DEMO_MODEL) return { kind: 'demo' };
  const alias = MODEL_ALIASES[trimmed];
  if (alias) return { kind: 'hub', id: alias };
  if (trimmed === '~' || trimmed.startsWith('~/')) return { kind: 'folder', path: path.join(home, trimmed.slice(1)) };
  if (path.isAbsolute(trimmed) || trimmed.startsWith('.') || trimmed.includes('\\')) {
    return { kind: 'folder', path: path.resolve(cwd, trimmed) };
  }
  if (/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(trimmed)) return { kind: 'hub', id: trimmed };
  // A bare name that is not an alias: treat as a folder relative to cwd, so the error names it.
  return { kind: 'folder', path: path.resolve(cwd, trimmed) };
}

/** The ref to remember (in a session, in settings): folders become absolute, so they work from any directory. */
export function canonicalModelRef(ref: string, cwd: string, home: string): string {
  // A model on a server (endpoint:NAME@URL) is no path.
  if (isEndpointRef(ref)) return ref.trim();
  const source = resolveModelRef(ref, cwd, home);
  return source.kind === 'folder' ? source.path : ref.trim();
}
