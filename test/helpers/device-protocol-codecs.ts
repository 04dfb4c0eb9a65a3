/** Decode and re-encode by codec name, for the device-protocol vectors. */
import {
  decodeDeviceAuthToken,
  decodeDeviceRequest,
  decodeDeviceResponse,
  decodeStateBlockAnnouncement,
  encodeDeviceAuthToken,
  encodeDeviceRequest,
  encodeDeviceResponse,
  encodeStateBlockAnnouncement,
} from '../../core/device-protocol.js';
import type { DeviceCodec } from './device-protocol-fixtures.js';

export function decodeForCodec(codec: DeviceCodec, bytes: Uint8Array): unknown {
  switch (codec) {
    case 'announcement':
      return decodeStateBlockAnnouncement(bytes);
    case 'request':
      return decodeDeviceRequest(bytes);
    case 'response':
      return decodeDeviceResponse(bytes);
    case 'authToken':
      return decodeDeviceAuthToken(bytes);
  }
}

/** decode then encode: a canonical input comes back byte for byte. */
export function roundTrip(codec: DeviceCodec, bytes: Uint8Array): Uint8Array {
  switch (codec) {
    case 'announcement':
      return encodeStateBlockAnnouncement(decodeStateBlockAnnouncement(bytes));
    case 'request':
      return encodeDeviceRequest(decodeDeviceRequest(bytes));
    case 'response':
      return encodeDeviceResponse(decodeDeviceResponse(bytes));
    case 'authToken':
      return encodeDeviceAuthToken(decodeDeviceAuthToken(bytes));
  }
}
