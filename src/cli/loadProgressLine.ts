import type { LoadProgress } from '../engine/protocol.js';
import { downloadLine } from '../ui/format.js';

/** One status line for a load, as shown on stderr in one-shot mode (the UI's download line). */
export function loadProgressLine(modelRef: string, p: LoadProgress, columns: number): string {
  if (p.kind === 'download') return `downloading ${downloadLine(p.file, p.loaded, p.total, columns - 12, p.bytesPerSecond)}`;
  return `loading ${modelRef}${p.file ? ` (${p.file})` : ''}…`;
}
