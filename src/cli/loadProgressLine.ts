import type { LoadProgress } from '../engine/protocol.js';

/** One status line for a load, as shown on stderr in one-shot mode. */
export function loadProgressLine(modelRef: string, p: LoadProgress): string {
  if (p.kind === 'download') {
    const pct = p.total > 0 ? Math.floor((p.loaded / p.total) * 100) : 0;
    return `downloading ${p.file}: ${mib(p.loaded)}/${mib(p.total)} MiB (${pct}%)`;
  }
  return `loading ${modelRef}${p.file ? ` (${p.file})` : ''}…`;
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
