/** Raspberry Pi 3 Model B, Raspberry Pi OS 12 32-bit (armhf, ARMv7): Node 18 from Debian. */
import { defineBoard, MiB } from './types.js';

export const rpi3 = defineBoard({
  id: 'rpi3',
  name: 'Raspberry Pi 3 Model B',
  arch: 'armv7',
  nodeMajor: 18,
  ramMb: 1024,
  slotBytes: 4 * MiB,
  transports: ['mqtt', 'ble', 'serial'],
  flash: { method: 'serial-frames', baud: 115_200 },
  emulated: false,
});
