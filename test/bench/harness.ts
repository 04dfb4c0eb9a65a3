/**
 * Benchmark helpers. Benchmarks are commands, not timed tests: each prints progress lines and, last, one
 * JSON object with its figures. Rates are medians of several timed rounds in the same process, so ratios
 * between figures of one run are meaningful on a noisy shared machine even when absolute rates move.
 */
import { cpus } from 'node:os';

export interface RateOptions {
  /** Minimum time per round. */
  readonly roundMs?: number;
  readonly rounds?: number;
}

/** Median ops/s of `rounds` rounds; fn(i) is one operation (i cycles through the caller's inputs). */
export function measureRate(fn: (i: number) => void, opts: RateOptions = {}): number {
  const roundMs = opts.roundMs ?? 400;
  const rounds = opts.rounds ?? 5;
  let i = 0;
  // Warm-up: let the JIT settle before the first timed round.
  const warmEnd = performance.now() + roundMs / 2;
  while (performance.now() < warmEnd) fn(i++);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < roundMs) {
      for (let k = 0; k < 16; k++, n++) fn(i++);
      t = performance.now();
    }
    rates.push((n * 1000) / (t - t0));
  }
  return median(rates);
}

/** Median wall time in ms of fn over `runs` runs. */
export function measureMs(fn: () => void, runs = 7): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function machine(): Record<string, unknown> {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' };
}

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
