/**
 * The one contract between the light client and a link to a gateway (lodestar's LightClientTransport
 * habit): MQTT today, BLE (GATT write + notify) and serial later. A transport moves whole messages; it
 * does not parse them. Messages are the CBOR messages of core/device-protocol.ts: requests go out, and
 * responses and state block announcements come in.
 *
 * Lifecycle: start() resolves once the first connection is up (or rejects after the connect timeout);
 * after that the transport reconnects by itself (exponential backoff with jitter) and reports each
 * transition through onStatus, until close().
 */

export type TransportChannel = 'announcement' | 'response';

export interface TransportHandlers {
  /** A whole message; `channel` says where it arrived (a transport that cannot tell peeks the kind). */
  onMessage(channel: TransportChannel, bytes: Uint8Array): void;
  /** 'up': connected and subscribed (again). 'down': the link dropped; a reconnect is scheduled. */
  onStatus(status: 'up' | 'down', detail?: Error): void;
}

export interface Transport {
  /** Short name for logs and status ('mqtt', 'memory', ...). */
  readonly name: string;
  readonly connected: boolean;
  start(handlers: TransportHandlers): Promise<void>;
  /** Sends one request; rejects DEVICE_NOT_CONNECTED while the link is down. */
  send(request: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"). */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

export const defaultBackoffOptions: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2 };

/**
 * Delay before reconnect attempt `attempt` (0-based): uniform in [cap/2, cap] with cap = min(max,
 * initial * factor^attempt). Half the cap is kept so a fleet that lost its broker spreads out without
 * some devices hammering it at ~0 ms ("equal jitter").
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const cap = Math.min(opts.maxMs, opts.initialMs * opts.factor ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}
