// Small helpers shared by the benchmark modules.

/** The median of a non-empty list (the upper middle for an even count). */
export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) throw new Error('median of no values');
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
};

export const round = (x: number, digits = 1): number => +x.toFixed(digits);

/** Progress goes to stderr: stdout's last line is the JSON result that outside checks read. */
export const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
