/**
 * An emulated board (`iosnet board emulate`): its flash (flash-store.ts), the flashing protocol on a serial
 * port (board-protocol.ts) and its bootloader (bootloader.ts). The serial port is the real SerialPort class
 * on one end of a socat pty pair, as a USB-serial adapter would be on a bench. After boot the device's
 * console shares the line as CONSOLE frames.
 */
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import { guardPoller } from '../../flash-scripts/serial.js';
import type { BoardDefinition } from '../index.js';
import { BoardProtocol } from './board-protocol.js';
import { withBootRomCrypto } from './boot-rom.js';
import { Bootloader } from './bootloader.js';
import { FlashStore } from './flash-store.js';

export interface EmulatorOptions {
  readonly board: BoardDefinition;
  readonly port: string;
  readonly flashDir: string;
  readonly crypto: Crypto;
  /** Pins this release key (hex) when the flash folder is new; must match the pinned one otherwise. */
  readonly releaseKey?: string;
  readonly hardwareSerial?: string;
  readonly device?: { readonly broker: string; readonly audience: string };
  /** Extra arguments for the device's `run` (devnets: --transact-every MS --transfer-to ADDR). */
  readonly deviceArgs?: readonly string[];
  readonly bootDeadlineMs?: number;
  readonly log: (line: string) => void;
}

export interface RunningEmulator {
  readonly store: FlashStore;
  close(): Promise<void>;
}

/** Default boot deadline: Node 18 starts in ~0.5 s natively and ~2 s under qemu, the bundle loads 10-15x slower there. */
export function defaultBootDeadlineMs(board: BoardDefinition): number {
  return board.arch === 'x64' ? 20_000 : 120_000;
}

export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const { board } = opts;
  // The bootloader hashes and checks signatures as native boot code does (boot-rom.ts says why); the
  // device image it runs keeps its own portable crypto.
  const crypto = withBootRomCrypto(opts.crypto);
  const store = FlashStore.open(
    opts.flashDir,
    board.slotBytes,
    opts.releaseKey
      ? {
          boardId: board.id,
          releaseKey: opts.releaseKey,
          hardwareSerial: opts.hardwareSerial ?? `EMU-${board.id}-0001`,
        }
      : undefined,
  );
  if (opts.releaseKey && store.env.releaseKey !== opts.releaseKey) {
    store.close();
    throw new IosnetError(
      'EMULATOR_STATE_INVALID',
      `${opts.flashDir} pins another release key (${store.env.releaseKey}); a board's pinned key does not change`,
    );
  }
  const port = new SerialPort({ path: opts.port, baudRate: board.flash.baud, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => {
      if (!err) return resolve();
      store.close();
      reject(new IosnetError('FLASH_PORT_ERROR', `cannot open ${opts.port}: ${err.message}`));
    }),
  );
  guardPoller(port);
  let protocol: BoardProtocol | undefined;
  const bootloader = new Bootloader({
    board,
    store,
    crypto,
    device: opts.device ?? { broker: 'mqtt://127.0.0.1:1883', audience: 'gateway' },
    bootDeadlineMs: opts.bootDeadlineMs ?? defaultBootDeadlineMs(board),
    onConsole: (line) => {
      opts.log(`console: ${line}`);
      protocol?.console(`${line}\n`);
    },
    onDeviceFrame: (frame) => port.write(frame),
    ...(opts.deviceArgs ? { deviceArgs: opts.deviceArgs } : {}),
    log: (line) => opts.log(`bootloader: ${line}`),
  });
  protocol = new BoardProtocol({
    store,
    crypto,
    trialBoot: (slot) => bootloader.trialBoot(slot),
    toDevice: (frame) => bootloader.toDevice(frame),
    log: (line) => opts.log(`flash: ${line}`),
  });
  protocol.attach(port as unknown as Duplex);
  opts.log(`board ${board.id} on ${opts.port}, flash in ${opts.flashDir}`);
  void bootloader.powerOn();
  return {
    store,
    async close() {
      await bootloader.stop();
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
      store.close();
    },
  };
}
