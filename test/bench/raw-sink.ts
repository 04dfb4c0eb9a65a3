/**
 * The far end of bench:flash's raw rounds, in its own process as the emulated board is in the protocol
 * rounds (`iosnet board emulate`): `tsx test/bench/raw-sink.ts PORT BYTES...` opens PORT with the real
 * SerialPort class, says `raw sink on PORT` on stderr, then reads one transfer of each size in turn and,
 * once it has every byte of one, writes one byte back: that is how the sender learns that the far end has
 * everything (the protocol's END_OK plays that part). It then waits for SIGTERM.
 */
import { openSerialPort } from '../../flash-scripts/serial.js';

const [path, ...sizeArgs] = process.argv.slice(2);
const sizes = sizeArgs.map(Number);
if (!path || sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n > 0)) {
  console.error('usage: raw-sink.ts PORT BYTES...');
  process.exit(2);
}
// The baud rate is ignored on a pty.
const port = await openSerialPort(path, 115_200);
let transfer = 0;
let got = 0;
port.stream.on('data', (c: Uint8Array) => {
  got += c.length;
  // A sender starts the next transfer only after this one's answer, so a chunk never spans two.
  if (transfer < sizes.length && got >= sizes[transfer]!) {
    port.stream.write(new Uint8Array([0x06]));
    transfer++;
    got = 0;
  }
});
console.error(`raw sink on ${path}`);
await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
await port.close();
