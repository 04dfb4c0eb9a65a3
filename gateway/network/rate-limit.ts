/**
 * Inbound rate limits per peer: token buckets on bytes/s and messages/s (each with a burst), and a third
 * bucket of tolerated excess. A frame that finds either main bucket short is discarded (never delivered:
 * consensus is not fed faster than the limit) and spends one excess token; a peer with no excess token left
 * keeps exceeding, and is dropped and banned. A one-off burst over the limit costs a few messages, not the
 * connection.
 */
import type { PeerId } from './interface.js';
import type { RateLimitOptions } from './options.js';

/** Classic token bucket: `capacity` tokens, refilled continuously at `ratePerSecond`. Infinity = unlimited. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Takes n tokens if available; false (and nothing taken) otherwise. */
  take(n: number, now: number): boolean {
    if (this.capacity === Number.POSITIVE_INFINITY) return true;
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  available(now: number): number {
    this.take(0, now);
    return this.tokens;
  }
}

export type RateVerdict = 'accept' | 'discard' | 'drop';

export class PeerRateLimiter {
  private readonly bytes: TokenBucket;
  private readonly messages: TokenBucket;
  private readonly excess: TokenBucket;
  /** Frames discarded so far (metrics, tests). */
  discarded = 0;

  constructor(options: RateLimitOptions, now: number) {
    this.bytes = new TokenBucket(options.bytesPerSecond, options.bytesBurst, now);
    this.messages = new TokenBucket(options.messagesPerSecond, options.messagesBurst, now);
    this.excess = new TokenBucket(options.excessPerSecond, options.excessBurst, now);
  }

  /** One inbound frame of `frameBytes` (header and tag included) at time `now` (ms). */
  check(frameBytes: number, now: number): RateVerdict {
    // Both buckets are checked before either is charged, so a discarded frame costs no tokens.
    if (this.messages.available(now) >= 1 && this.bytes.available(now) >= frameBytes) {
      this.messages.take(1, now);
      this.bytes.take(frameBytes, now);
      return 'accept';
    }
    this.discarded++;
    return this.excess.take(1, now) ? 'discard' : 'drop';
  }
}

/**
 * PeerIds refused until a time. Bounded: an attacker can mint keys at will, so past `maxEntries` the
 * oldest ban is forgotten rather than letting the map grow.
 */
export class BanList {
  private readonly until = new Map<PeerId, number>();

  constructor(readonly maxEntries = 10_000) {}

  ban(peerId: PeerId, untilMs: number): void {
    this.until.delete(peerId);
    if (this.until.size >= this.maxEntries) this.until.delete(this.until.keys().next().value!);
    this.until.set(peerId, untilMs);
  }

  /** The time the ban ends, or undefined if not banned at `now`. */
  bannedUntil(peerId: PeerId, now: number): number | undefined {
    const t = this.until.get(peerId);
    if (t === undefined) return undefined;
    if (t <= now) {
      this.until.delete(peerId);
      return undefined;
    }
    return t;
  }

  get size(): number {
    return this.until.size;
  }
}
