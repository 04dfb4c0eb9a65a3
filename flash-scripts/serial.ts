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
  guardPoller(port);
  // Errors after open (unplugged adapter) surface as the pending request's FLASH_NO_ANSWER; keep them quiet.
  port.on('error', () => {});
  return {
    stream: port as unknown as Duplex,
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}

interface PollerLike {
  poll(flags: number): void;
  listenerCount(event: string): number;
}

const UV_READABLE = 1;
const UV_WRITABLE = 2;

/**
 * Works around a lost-wakeup in @serialport/bindings-cpp 13 (src/poller.cpp): `poll(flag)` records the flag
 * but calls uv_poll_start with that flag alone, so a reader waiting for "readable" cancels the "writable" a
 * blocked writer waits for, and the other way round. With writes larger than the line buffer (any flashing
 * window) both ends can end up waiting for an event nobody polls: the transfer deadlocks (measured on a socat
 * pty pair: every few sessions with 32 KiB frames, and at any frame size on a slow real line, where every
 * write blocks). The guard re-adds the interest of whichever waiter is still registered. Call after open.
 */
export function guardPoller(port: SerialPort): void {
  const poller = (port.port as unknown as { poller?: PollerLike } | undefined)?.poller;
  if (!poller || (poller as { guarded?: boolean }).guarded) return;
  const poll = poller.poll.bind(poller);
  Object.assign(poller, {
    guarded: true,
    poll: (flags: number) =>
      poll(
        flags |
          (poller.listenerCount('readable') > 0 ? UV_READABLE : 0) |
          (poller.listenerCount('writable') > 0 ? UV_WRITABLE : 0),
      ),
  });
}
