/** Raspberry Pi Zero 2 W: 512 MB RAM, 64-bit OS; the tightest real board (RAM shared with the GPU). */
import { defineBoard, MiB } from './types.js';

export const rpiZero2w = defineBoard({
  id: 'rpi-zero-2w',
  name: 'Raspberry Pi Zero 2 W',
  arch: 'arm64',
  nodeMajor: 18,
  ramMb: 512,
  slotBytes: 2 * MiB,
  transports: ['mqtt', 'ble', 'serial'],
  flash: { method: 'serial-frames', baud: 115_200 },
  emulated: false,
});
