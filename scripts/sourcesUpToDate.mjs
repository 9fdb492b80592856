// Exits 0 when the program in dist/src is newer than every source it is built from, so
// `npm start` can skip loading the TypeScript compiler (about 1–2 s) when nothing changed;
// 1 otherwise, and `tsc -b` then rebuilds what changed. Plain JS: it runs before any build.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

// The checkout's root, or the folder given (the tests check a scratch copy).
const root = process.argv[2] ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const stamp = (file) => {
  try {
    return statSync(path.join(root, file)).mtimeMs;
  } catch {
    return null;
  }
};
const built = stamp('dist/src/.tsbuildinfo');
if (built === null) process.exit(1);

function newest(dir) {
  let latest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}
const inputs = [
  newest(path.join(root, 'src')),
  ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => stamp(f) ?? Infinity),
];
process.exit(inputs.every((t) => t <= built) ? 0 : 1);
