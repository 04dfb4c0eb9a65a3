/**
 * A serial line with a baud rate, for tests and benches: `tsx test/helpers/slow-line.ts A B BAUD` joins two
 * pty ends (each the far end of its own socat pair) and carries bytes between them in both directions at
 * BAUD / 10 bytes per second (8N1: a start bit, 8 data bits, a stop bit), as a UART does: a socat pty pair
 * alone carries ~20 MB/s, where the boards' lines run at 115,200 or 921,600 baud. Each direction holds at
 * most FIFO_BYTES in flight; past that it stops reading its side, so a writer blocks as on a real line.
 * Says `slow line up` on stderr once both ends are open; stops on SIGTERM.
 */
import { SerialPort } from 'serialport';
import { guardPoller } from '../../flash-scripts/serial.js';

const FIFO_BYTES = 4096;
const TICK_MS = 5;

const [pathA, pathB, baudArg] = process.argv.slice(2);
const baud = Number(baudArg);
if (!pathA || !pathB || !Number.isInteger(baud) || baud <= 0) {
  process.stderr.write('usage: slow-line.ts PTY_A PTY_B BAUD\n');
  process.exit(2);
}

async function open(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false, lock: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  guardPoller(port);
  port.on('error', () => {});
  return port;
}

/** Carries what `from` reads to `to` at the line's rate. */
function direction(from: SerialPort, to: SerialPort): void {
  const queue: Buffer[] = [];
  let queued = 0;
  let credit = 0;
  let last = performance.now();
  from.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= FIFO_BYTES) from.pause();
  });
  setInterval(() => {
    const now = performance.now();
    // Bytes the line could have carried since the last tick (an idle line saves up at most two ticks' worth).
    credit = Math.min(credit + ((now - last) * baud) / 10_000, (baud / 10_000) * TICK_MS * 2);
    last = now;
    while (queue.length > 0 && credit >= 1) {
      const head = queue[0]!;
      const n = Math.min(head.length, Math.floor(credit));
      to.write(head.subarray(0, n));
      credit -= n;
      queued -= n;
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
    if (queued < FIFO_BYTES && from.isPaused()) from.resume();
  }, TICK_MS);
}

const a = await open(pathA);
const b = await open(pathB);
direction(a, b);
direction(b, a);
process.stderr.write('slow line up\n');
process.once('SIGTERM', () => {
  a.close();
  b.close();
  process.exit(0);
});
