// Small text formatters shared by the status bar, the loading panel and the reports.

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `[█████░░░░░]` for a fraction from 0 to 1. */
export function progressBar(fraction: number, width: number): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/**
 * One file of a download: name, bar, percent, bytes and (when known) speed, fitted to the
 * terminal width.
 */
export function downloadLine(file: string, loaded: number, total: number, columns: number, bytesPerSecond?: number): string {
  const percent = total > 0 ? Math.floor((loaded / total) * 100) : 0;
  const amounts = total > 0 ? `${formatBytes(loaded)}/${formatBytes(total)}` : formatBytes(loaded);
  const speed = bytesPerSecond !== undefined && bytesPerSecond > 0 ? ` ${formatBytes(Math.round(bytesPerSecond))}/s` : '';
  const tail = ` ${String(percent).padStart(3)}% ${amounts}${speed}`;
  const barWidth = Math.max(0, Math.min(30, columns - file.length - tail.length - 4));
  const bar = barWidth >= 5 ? ` ${progressBar(total > 0 ? loaded / total : 0, barWidth)}` : '';
  return `${file}${bar}${tail}`;
}

export function formatNumber(value: number, decimals: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(decimals).replace(/\.?0+$/, '');
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** "3 minutes ago"-style age of an ISO time. */
export function formatAge(iso: string, now: Date): string {
  const seconds = Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return 'unknown';
  const steps: [number, string][] = [
    [60, 'second'],
    [60, 'minute'],
    [24, 'hour'],
    [Infinity, 'day'],
  ];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (value < size) {
      const n = Math.floor(value);
      return n === 0 && unit === 'second' ? 'just now' : `${n} ${unit}${n === 1 ? '' : 's'} ago`;
    }
    value /= size;
  }
  return 'long ago';
}

/** `1 turn`, `2 turns`: a count with its noun, singular for one. */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
