/**
 * Redial policy for one endpoint: exponential backoff with jitter and a cap (AWS "equal jitter": the delay
 * is uniform over [d/2, d] with d = min(max, min * 2^attempt), so a fleet restarting together does not
 * redial in lockstep, and no redial comes sooner than half the nominal delay).
 */
import type { PeerId } from './interface.js';
import type { Endpoint } from './options.js';

export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const nominal = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 52));
  return nominal / 2 + random() * (nominal / 2);
}

export type DialerState =
  /** A timer is set for the next attempt. */
  | 'waiting'
  /** TCP connect or handshake in progress. */
  | 'dialing'
  /** Its peer is connected (by this dialer's connection or another one): it redials when the peer goes down. */
  | 'connected'
  /** The endpoint is this node itself: never redialed. */
  | 'self';

export interface Dialer {
  readonly endpoint: string;
  readonly address: Endpoint;
  state: DialerState;
  /** Consecutive failed attempts (the backoff exponent). */
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  /** Learned from the first successful handshake. */
  peerId: PeerId | undefined;
}

export function createDialer(endpoint: string, address: Endpoint): Dialer {
  return { endpoint, address, state: 'waiting', attempt: 0, timer: undefined, peerId: undefined };
}
