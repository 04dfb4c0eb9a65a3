/** The board table: every board file, in the order `iosnet boards` lists them. */
import { droneCompanion } from './drone-companion.js';
import { emuArm64 } from './emu-arm64.js';
import { emuArmv7 } from './emu-armv7.js';
import { emuX64 } from './emu-x64.js';
import { rpiZero2w } from './rpi-zero-2w.js';
import { rpi3 } from './rpi3.js';
import { rpi4 } from './rpi4.js';
import { type BoardDefinition, BoardError } from './types.js';
import { vehicleTelematics } from './vehicle-telematics.js';

export type { BoardArch, BoardDefinition, BoardTransport, FlashMethod } from './types.js';
export { BoardError } from './types.js';

const BOARDS: readonly BoardDefinition[] = [
  rpi4,
  rpiZero2w,
  rpi3,
  droneCompanion,
  vehicleTelematics,
  emuX64,
  emuArm64,
  emuArmv7,
];

export function listBoards(): readonly BoardDefinition[] {
  return BOARDS;
}

export function getBoard(id: string): BoardDefinition {
  const board = BOARDS.find((b) => b.id === id);
  if (!board) {
    throw new BoardError(
      'BOARD_UNKNOWN',
      `unknown board '${id}' (known: ${BOARDS.map((b) => b.id).join(', ')})`,
      {
        board: id,
      },
    );
  }
  return board;
}

/** The scripts/node18 --arch name of a board's architecture (Debian calls ARMv7 hard-float 'armhf'). */
export function sysrootArch(board: BoardDefinition): 'x64' | 'arm64' | 'armhf' {
  return board.arch === 'armv7' ? 'armhf' : board.arch;
}
