// The text of `parley models`: one row per cached model. Pure.
import type { CachedModel } from '../hub/cachedModels.js';
import { formatAge, formatBytes } from '../text/format.js';

export function formatModelTable(models: readonly CachedModel[], cacheDir: string, now: Date): string {
  if (models.length === 0) return `No models in the cache (${cacheDir}). Download one with: parley pull gpt2\n`;
  const rows = models.map((m) => [
    m.id,
    m.dtypes.length ? m.dtypes.join(',') : 'no model file',
    formatBytes(m.bytes),
    m.lastUsed ? formatAge(m.lastUsed.toISOString(), now) : 'never',
  ]);
  const header = ['MODEL', 'DTYPES', 'SIZE', 'LAST USED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = [line(header)];
  models.forEach((m, i) => {
    out.push(line(rows[i]!));
    for (const c of m.converted) out.push(`  converted graph ${c.variant}  ${formatBytes(c.bytes)}`);
  });
  out.push(`Cache: ${cacheDir}`);
  return `${out.join('\n')}\n`;
}
