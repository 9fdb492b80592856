/**
 * Download speed over the last few seconds (a whole-transfer average hides a stall; the last
 * chunk alone jumps around). Pure: the caller passes the clock.
 */
export class SpeedMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 3000) {}

  /** Records that `bytes` in total have arrived at `at` ms; returns bytes per second (0 until two samples). */
  add(at: number, bytes: number): number {
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (at - first.at) / 1000;
    return seconds > 0 ? (bytes - first.bytes) / seconds : 0;
  }
}
