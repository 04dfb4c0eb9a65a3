/** Emulated arm64 board: Debian's arm64 Node 18 under qemu-user (idle node takes ~100 MiB there). */
import { defineBoard, MiB } from './types.js';

export const emuArm64 = defineBoard({
  id: 'emu-arm64',
  name: 'Emulated board (arm64, Node 18 under qemu-user)',
  arch: 'arm64',
  nodeMajor: 18,
  ramMb: 512,
  slotBytes: 2 * MiB,
  transports: ['mqtt', 'serial'],
  flash: { method: 'serial-frames', baud: 115_200 },
  emulated: true,
});
