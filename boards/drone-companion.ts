/**
 * A drone companion computer (a CM4-class arm64 module beside the flight controller): MQTT over the
 * telemetry link's IP, serial to the autopilot and for flashing; no BLE in flight.
 */
import { defineBoard, MiB } from './types.js';

export const droneCompanion = defineBoard({
  id: 'drone-companion',
  name: 'Drone companion computer (arm64)',
  arch: 'arm64',
  nodeMajor: 18,
  ramMb: 1024,
  slotBytes: 4 * MiB,
  transports: ['mqtt', 'serial'],
  flash: { method: 'serial-frames', baud: 921_600 },
  emulated: false,
});
