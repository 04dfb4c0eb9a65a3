/** Emulated ARMv7 board: Debian's armhf Node 18 under qemu-user (idle node takes ~80 MiB there). */
import { defineBoard, MiB } from './types.js';

export const emuArmv7 = defineBoard({
  id: 'emu-armv7',
  name: 'Emulated board (armv7, Node 18 under qemu-user)',
  arch: 'armv7',
  nodeMajor: 18,
  ramMb: 384,
  slotBytes: 2 * MiB,
  transports: ['mqtt', 'serial'],
  flash: { method: 'serial-frames', baud: 115_200 },
  emulated: true,
});
