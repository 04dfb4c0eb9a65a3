/**
 * The flashing progress bar on stderr: redrawn in place on a TTY (at most every 100 ms), one line per 25%
 * otherwise (logs and CI stay readable). Rate and ETA count only bytes sent in this run, so a resumed
 * transfer does not show an inflated rate.
 */
import type { FlashProgress } from './flash.js';

export interface ProgressSink {
  readonly isTTY: boolean;
  write(text: string): void;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.ceil(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function progressLine(p: FlashProgress, elapsedMs: number, width = 30): string {
  const frac = p.totalBytes === 0 ? 1 : p.sentBytes / p.totalBytes;
  const filled = Math.round(frac * width);
  const rate = elapsedMs > 0 ? ((p.sentBytes - p.resumedFrom) * 1000) / elapsedMs : 0;
  const eta = rate > 0 ? (p.totalBytes - p.sentBytes) / rate : Number.POSITIVE_INFINITY;
  const resumed = p.resumedFrom > 0 ? ` (resumed at ${formatBytes(p.resumedFrom)})` : '';
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ` +
    `${formatBytes(p.sentBytes)}/${formatBytes(p.totalBytes)} ${formatBytes(rate)}/s ETA ${formatEta(eta)}${resumed}`
  );
}

export function createProgressBar(sink: ProgressSink, now: () => number = Date.now) {
  const start = now();
  let lastDraw = 0;
  let lastQuarter = -1;
  return {
    update(p: FlashProgress): void {
      const t = now();
      const done = p.sentBytes >= p.totalBytes;
      if (sink.isTTY) {
        if (!done && t - lastDraw < 100) return;
        lastDraw = t;
        sink.write(`\r${progressLine(p, t - start)}\x1b[K`);
      } else {
        const quarter = Math.floor((4 * p.sentBytes) / Math.max(1, p.totalBytes));
        if (quarter === lastQuarter) return;
        lastQuarter = quarter;
        sink.write(`${progressLine(p, t - start)}\n`);
      }
    },
    finish(): void {
      if (sink.isTTY) sink.write('\n');
    },
  };
}
