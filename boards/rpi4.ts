/** Raspberry Pi 4 Model B (2 GB and up), Raspberry Pi OS 12 (bookworm) 64-bit: Node 18 from Debian. */
import { defineBoard, MiB } from './types.js';

export const rpi4 = defineBoard({
  id: 'rpi4',
  name: 'Raspberry Pi 4 Model B',
  arch: 'arm64',
  nodeMajor: 18,
  ramMb: 2048,
  slotBytes: 8 * MiB,
  transports: ['mqtt', 'ble', 'serial'],
  flash: { method: 'serial-frames', baud: 921_600 },
  emulated: false,
});
