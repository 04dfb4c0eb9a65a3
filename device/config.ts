/**
 * The device's runtime config (docs/device.md §Config): one JSON file, checked field by field; a bad
 * field is DEVICE_CONFIG_INVALID naming it, and nothing starts. Paths are relative to the config file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MAX_BOARD_ID_BYTES, MAX_SERIAL_BYTES } from '../core/identity.js';
import { DeviceError } from './errors.js';

export interface DeviceConfig {
  /** mqtt://host:port or mqtts://host:port */
  readonly broker: string;
  /** Who accepts the auth token: the gateway's node public key (hex) or the external broker's id. */
  readonly audience: string;
  /** The trust anchor file (canonical CBOR, device/anchor.ts). */
  readonly anchor: string;
  /** The device key file; created (mode 0600) on first boot. */
  readonly keyFile: string;
  readonly boardId: string;
  readonly hardwareSerial: string;
  /** PEM CA file for mqtts:// with a private CA. */
  readonly caFile?: string;
  /** External broker: enrol each token on the gateway's auth topic before connecting (protocol.md §16.4). */
  readonly enrol: boolean;
  readonly requestTimeoutMs: number;
  readonly maxPendingRequests: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly tokenLifetimeMs: number;
}

export const defaultDeviceConfig = {
  requestTimeoutMs: 10_000,
  maxPendingRequests: 16,
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  tokenLifetimeMs: 60_000,
} as const;

const KNOWN = new Set([
  'broker',
  'audience',
  'anchor',
  'keyFile',
  'boardId',
  'hardwareSerial',
  'caFile',
  'enrol',
  ...Object.keys(defaultDeviceConfig),
]);

function invalid(field: string, message: string): never {
  throw new DeviceError('DEVICE_CONFIG_INVALID', `config.${field}: ${message}`, { field });
}

function text(
  o: Record<string, unknown>,
  field: string,
  opts: { maxBytes?: number; optional?: boolean } = {},
): string | undefined {
  const v = o[field];
  if (v === undefined && opts.optional) return undefined;
  if (typeof v !== 'string' || v === '') invalid(field, 'expected a non-empty string');
  if (opts.maxBytes !== undefined && Buffer.byteLength(v, 'utf8') > opts.maxBytes) {
    invalid(field, `longer than ${opts.maxBytes} bytes`);
  }
  return v;
}

function int(
  o: Record<string, unknown>,
  field: keyof typeof defaultDeviceConfig,
  min: number,
  max: number,
): number {
  const v = o[field] ?? defaultDeviceConfig[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    invalid(field, `expected an integer within ${min}..${max}`);
  }
  return v;
}

/** Checks a parsed config object; `baseDir` resolves relative paths. */
export function parseDeviceConfig(value: unknown, baseDir: string): DeviceConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid('', 'expected a JSON object');
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) invalid(k, 'unknown field');
  const broker = text(o, 'broker')!;
  if (!/^mqtts?:\/\/[^/]+(:\d+)?\/?$/.test(broker))
    invalid('broker', 'expected mqtt://host:port or mqtts://host:port');
  const path = (f: string, optional = false) => {
    const p = text(o, f, { optional });
    return p === undefined ? undefined : resolve(baseDir, p);
  };
  const backoffInitialMs = int(o, 'backoffInitialMs', 10, 600_000);
  const backoffMaxMs = int(o, 'backoffMaxMs', backoffInitialMs, 3_600_000);
  const caFile = path('caFile', true);
  if (o.enrol !== undefined && typeof o.enrol !== 'boolean') invalid('enrol', 'expected true or false');
  return {
    broker,
    audience: text(o, 'audience', { maxBytes: 128 })!,
    anchor: path('anchor')!,
    keyFile: path('keyFile')!,
    boardId: text(o, 'boardId', { maxBytes: MAX_BOARD_ID_BYTES })!,
    hardwareSerial: text(o, 'hardwareSerial', { maxBytes: MAX_SERIAL_BYTES })!,
    ...(caFile ? { caFile } : {}),
    enrol: o.enrol === true,
    requestTimeoutMs: int(o, 'requestTimeoutMs', 100, 600_000),
    maxPendingRequests: int(o, 'maxPendingRequests', 1, 1024),
    backoffInitialMs,
    backoffMaxMs,
    tokenLifetimeMs: int(o, 'tokenLifetimeMs', 1_000, 600_000),
  };
}

export function loadDeviceConfig(file: string): DeviceConfig {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DeviceError('DEVICE_CONFIG_INVALID', `cannot read config ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new DeviceError('DEVICE_CONFIG_INVALID', `config ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseDeviceConfig(value, dirname(resolve(file)));
}
