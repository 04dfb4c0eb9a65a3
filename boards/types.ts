/**
 * The shape of a board definition (one file per board in boards/, the only place that describes a board).
 * Flash-scripts, the emulator and the CLI read boards through `getBoard` / `listBoards` (boards/index.ts).
 */
import { IosnetError } from '../core/errors.js';

export type BoardArch = 'arm64' | 'armv7' | 'x64';
export type BoardTransport = 'mqtt' | 'ble' | 'serial';
/** How an image reaches the board: the framed serial protocol of docs/flashing.md (the only one so far). */
export type FlashMethod = 'serial-frames';

export interface BoardDefinition {
  /** Stable id, baked into images and checked by the bootloader ('rpi4', 'emu-x64'). At most 32 bytes. */
  readonly id: string;
  readonly name: string;
  readonly arch: BoardArch;
  /** Major Node version the board's OS ships (Debian 12 / Raspberry Pi OS: 18); the bundle targets it. */
  readonly nodeMajor: number;
  /** RAM available to the device process, MiB (the emulator enforces it). */
  readonly ramMb: number;
  /** Bytes one image slot holds (the board keeps two: A/B). An image larger than this is refused. */
  readonly slotBytes: number;
  readonly transports: readonly BoardTransport[];
  readonly flash: { readonly method: FlashMethod; readonly baud: number };
  /** True for boards that exist only as `iosnet board emulate` processes. */
  readonly emulated: boolean;
}

export type BoardErrorCode = 'BOARD_UNKNOWN' | 'BOARD_INVALID';

export class BoardError extends IosnetError<BoardErrorCode> {}

const ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Checks a definition once, when the table is built: a typo in a board file fails every use at once. */
export function defineBoard(board: BoardDefinition): BoardDefinition {
  const bad = (field: string, reason: string): never => {
    throw new BoardError('BOARD_INVALID', `board ${board.id}: ${field}: ${reason}`, {
      board: board.id,
      field,
    });
  };
  if (!ID.test(board.id)) bad('id', 'expected 1..32 of [a-z0-9-], starting with a letter or digit');
  if (!Number.isInteger(board.nodeMajor) || board.nodeMajor < 18)
    bad('nodeMajor', 'expected an integer >= 18');
  if (!Number.isInteger(board.ramMb) || board.ramMb < 96) bad('ramMb', 'expected an integer >= 96');
  if (!Number.isInteger(board.slotBytes) || board.slotBytes < 64 * 1024)
    bad('slotBytes', 'expected >= 64 KiB');
  if (board.transports.length === 0) bad('transports', 'expected at least one');
  if (!Number.isInteger(board.flash.baud) || board.flash.baud <= 0)
    bad('flash.baud', 'expected a positive integer');
  return Object.freeze({
    ...board,
    transports: Object.freeze([...board.transports]),
    flash: Object.freeze({ ...board.flash }),
  });
}

export const MiB = 1024 * 1024;

/**
 * V8 flags every board starts the device image with: a 1 MB young generation and no GC helper threads. The
 * light client's live heap is ~2.5 MB; with Node's defaults the young generation and helper threads add
 * ~16 MB of resident memory on top (measured by `npm run bench:device`), too much for a 512 MB board that
 * runs other things.
 */
export const DEVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--single-threaded'];
