/**
 * Options of the peer network (lodestar's `XOptions` + `defaultXOptions`). Limits that are part of the
 * wire protocol (message bounds, hello size) live in constants.ts; these are per-node policy.
 */
import { ArgumentError } from '../../core/errors.js';
import { FRAME_HEADER_BYTES, GCM_TAG_BYTES, MAX_FRAMES_PER_KEY } from './constants.js';
import type { PeerId } from './interface.js';

export interface RateLimitOptions {
  /** Sustained inbound bytes/s per peer (frame bytes, header and tag included). */
  readonly bytesPerSecond: number;
  /** Byte bucket size: must hold one maximal frame. */
  readonly bytesBurst: number;
  readonly messagesPerSecond: number;
  readonly messagesBurst: number;
  /**
   * A frame over either bucket is discarded and spends one "excess" token; a peer that runs out of excess
   * tokens (it keeps exceeding, it is not a one-off burst) is dropped and banned for banMs.
   */
  readonly excessBurst: number;
  readonly excessPerSecond: number;
}

export interface NetworkOptions {
  readonly listenHost: string;
  /** 0 = a random free port (start() resolves with it). */
  readonly listenPort: number;
  /** Endpoints "host:port" dialed (and redialed) at start. */
  readonly peers: readonly string[];
  /** Largest encrypted frame body accepted or sent (ciphertext + 16-byte tag). Blocks are up to 8 MiB. */
  readonly maxFrameBytes: number;
  readonly rateLimit: RateLimitOptions;
  /** From TCP connect (or accept) to the handshake's last message. */
  readonly handshakeTimeoutMs: number;
  /** Redial backoff: min * 2^attempt capped at max, then uniform jitter over [delay/2, delay]. */
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Bytes waiting to be written to one peer; past this the peer is dropped (a slow reader). */
  readonly maxOutboundQueueBytes: number;
  /** How long a penalized or rate-limited peer is refused. */
  readonly banMs: number;
  /** Hex node keys allowed to connect (both directions); null = any key of this chain. */
  readonly allowedPeers: readonly PeerId[] | null;
  /** Established peers; a new one past this is refused. */
  readonly maxPeers: number;
  /** Connections still in the handshake; more are closed at accept (a slowloris bound). */
  readonly maxPendingHandshakes: number;
  /** TCP keep-alive idle time before probes (half-open detection). */
  readonly keepAliveMs: number;
  /** stop(): how long closing connections may take to flush before they are destroyed. */
  readonly closeTimeoutMs: number;
  /** Frames per direction per session key (protocol default MAX_FRAMES_PER_KEY; tests lower it). */
  readonly maxFramesPerKey: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export const defaultRateLimitOptions: RateLimitOptions = {
  bytesPerSecond: 32 * 1024 * 1024,
  bytesBurst: 2 * DEFAULT_MAX_FRAME_BYTES,
  messagesPerSecond: 5000,
  messagesBurst: 10_000,
  excessBurst: 200,
  excessPerSecond: 20,
};

export const defaultNetworkOptions: NetworkOptions = {
  listenHost: '127.0.0.1',
  listenPort: 0,
  peers: [],
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  rateLimit: defaultRateLimitOptions,
  handshakeTimeoutMs: 5000,
  reconnectMinMs: 250,
  reconnectMaxMs: 30_000,
  maxOutboundQueueBytes: 2 * DEFAULT_MAX_FRAME_BYTES + 1024 * 1024,
  banMs: 10 * 60_000,
  allowedPeers: null,
  maxPeers: 256,
  maxPendingHandshakes: 64,
  keepAliveMs: 15_000,
  closeTimeoutMs: 2000,
  maxFramesPerKey: MAX_FRAMES_PER_KEY,
};

export type NetworkOptionsInput = Partial<Omit<NetworkOptions, 'rateLimit'>> & {
  readonly rateLimit?: Partial<RateLimitOptions>;
};

function positive(value: number, name: string, allowInfinity = false): void {
  const ok =
    typeof value === 'number' &&
    value > 0 &&
    (Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
  if (!ok) throw new ArgumentError(name, 'expected a positive number');
}

function integer(value: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ArgumentError(name, `expected an integer in [${min}, ${max}]`);
  }
}

/** Defaults + overrides, checked (ArgumentError naming the option). Infinity disables a rate limit. */
export function resolveNetworkOptions(input: NetworkOptionsInput = {}): NetworkOptions {
  const o: NetworkOptions = {
    ...defaultNetworkOptions,
    ...input,
    rateLimit: { ...defaultRateLimitOptions, ...input.rateLimit },
  };
  if (typeof o.listenHost !== 'string' || o.listenHost === '') {
    throw new ArgumentError('listenHost', 'expected a host');
  }
  integer(o.listenPort, 'listenPort', 0, 65535);
  if (!Array.isArray(o.peers)) throw new ArgumentError('peers', 'expected an array of "host:port"');
  for (const p of o.peers) parseEndpoint(p);
  integer(o.maxFrameBytes, 'maxFrameBytes', GCM_TAG_BYTES + 1, 2 ** 32 - 1);
  for (const k of ['bytesPerSecond', 'messagesPerSecond', 'excessPerSecond'] as const) {
    positive(o.rateLimit[k], `rateLimit.${k}`, true);
  }
  for (const k of ['bytesBurst', 'messagesBurst', 'excessBurst'] as const) {
    positive(o.rateLimit[k], `rateLimit.${k}`, true);
  }
  if (o.rateLimit.bytesBurst < o.maxFrameBytes + FRAME_HEADER_BYTES) {
    throw new ArgumentError('rateLimit.bytesBurst', 'must hold one frame of maxFrameBytes');
  }
  integer(o.handshakeTimeoutMs, 'handshakeTimeoutMs', 1);
  integer(o.reconnectMinMs, 'reconnectMinMs', 1);
  integer(o.reconnectMaxMs, 'reconnectMaxMs', o.reconnectMinMs);
  integer(o.maxOutboundQueueBytes, 'maxOutboundQueueBytes', o.maxFrameBytes + FRAME_HEADER_BYTES);
  integer(o.banMs, 'banMs', 0);
  if (o.allowedPeers !== null) {
    if (!Array.isArray(o.allowedPeers)) throw new ArgumentError('allowedPeers', 'expected hex keys or null');
    for (const k of o.allowedPeers) {
      if (typeof k !== 'string' || !/^[0-9a-f]{64}$/.test(k)) {
        throw new ArgumentError('allowedPeers', `not a lowercase hex Ed25519 key: ${String(k)}`);
      }
    }
  }
  integer(o.maxPeers, 'maxPeers', 1);
  integer(o.maxPendingHandshakes, 'maxPendingHandshakes', 1);
  integer(o.keepAliveMs, 'keepAliveMs', 0);
  integer(o.closeTimeoutMs, 'closeTimeoutMs', 0);
  integer(o.maxFramesPerKey, 'maxFramesPerKey', 1, MAX_FRAMES_PER_KEY);
  return o;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** "host:port" or "[ipv6]:port"; ArgumentError otherwise. */
export function parseEndpoint(endpoint: string): Endpoint {
  const m = typeof endpoint === 'string' ? /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(endpoint) : null;
  const port = m ? Number(m[3]) : -1;
  if (!m || port < 1 || port > 65535) {
    throw new ArgumentError('endpoint', `expected "host:port", got ${JSON.stringify(endpoint)}`);
  }
  return { host: (m[1] ?? m[2])!, port };
}
