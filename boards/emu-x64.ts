/** Emulated x64 board: Debian's Node 18 natively (chroot, scripts/node18); the fast board for tests. */
import { defineBoard, MiB } from './types.js';

export const emuX64 = defineBoard({
  id: 'emu-x64',
  name: 'Emulated board (x64, Node 18 in a chroot)',
  arch: 'x64',
  nodeMajor: 18,
  ramMb: 256,
  slotBytes: 2 * MiB,
  transports: ['mqtt', 'serial'],
  flash: { method: 'serial-frames', baud: 115_200 },
  emulated: true,
});
