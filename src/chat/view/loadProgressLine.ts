import type { LoadProgress } from '../../engine/protocol.js';
import { downloadLine } from '../../text/format.js';

const STAGE_TEXT = { reading: 'reading the export', building: "building Parley's graph", checking: 'checking it against the export' };

/** What a conversion is doing, e.g. "building Parley's graph 45 %". */
export function convertingText(p: Extract<LoadProgress, { kind: 'converting' }>): string {
  const percent = p.stage === 'building' ? ` ${Math.round(p.fraction * 100)} %` : '';
  return `${STAGE_TEXT[p.stage]}${percent}`;
}

/** One status line for a load, as shown on stderr in one-shot mode (the UI's download line). */
export function loadProgressLine(modelRef: string, p: LoadProgress, columns: number): string {
  if (p.kind === 'download') return `downloading ${downloadLine(p.file, p.loaded, p.total, columns - 12, p.bytesPerSecond)}`;
  if (p.kind === 'converting') return `converting ${modelRef}: ${convertingText(p)}…`;
  return `loading ${modelRef}${p.file ? ` (${p.file})` : ''}…`;
}
