/** Opening a serial port with the real SerialPort class, with the failures an operator meets named. */
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { FlashError } from '../core/serial-protocol.js';

export interface OpenPort {
  readonly stream: Duplex;
  close(): Promise<void>;
}

/** Opens `path` exclusively (flock: a second flasher or a terminal program on it is "busy"). */
export async function openSerialPort(path: string, baudRate: number): Promise<OpenPort> {
  const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => {
      if (!err) return resolve();
      const m = err.message;
      if (/lock|busy|EBUSY|EAGAIN|temporarily unavailable/i.test(m)) {
        reject(new FlashError('FLASH_PORT_BUSY', `${path} is in use by another program`, { path }));
      } else if (/ENOENT|No such file/i.test(m)) {
        reject(new FlashError('FLASH_PORT_ERROR', `${path}: no such serial port`, { path }));
      } else {
        reject(
          new FlashError('FLASH_PORT_ERROR', `cannot open ${path}: ${m.replace(/^Error:?\s*/, '')}`, {
            path,
          }),
        );
      }
    }),
  );
  // Errors after open (unplugged adapter) surface as the pending request's FLASH_NO_ANSWER; keep them quiet.
  port.on('error', () => {});
  return {
    stream: port as unknown as Duplex,
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}
