/**
 * A vehicle telematics unit (an i.MX6-class ARMv7 TCU with LTE): MQTT over the modem, BLE to phones and
 * sensors, serial on the diagnostics header for flashing.
 */
import { defineBoard, MiB } from './types.js';

export const vehicleTelematics = defineBoard({
  id: 'vehicle-tcu',
  name: 'Vehicle telematics unit (armv7)',
  arch: 'armv7',
  nodeMajor: 18,
  ramMb: 256,
  slotBytes: 2 * MiB,
  transports: ['mqtt', 'ble', 'serial'],
  flash: { method: 'serial-frames', baud: 460_800 },
  emulated: false,
});
