/** Token buckets, the per-peer limiter's verdicts and the ban list, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { defaultRateLimitOptions } from '../../../../gateway/network/options.js';
import { BanList, PeerRateLimiter, TokenBucket } from '../../../../gateway/network/rate-limit.js';

describe('TokenBucket', () => {
  it('allows a burst, refills at the rate, never above capacity', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.take(1, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
    expect(b.take(1, 99)).toBe(false); // 0.99 tokens
    expect(b.take(1, 100)).toBe(true);
    expect(b.available(100_000)).toBe(5);
    expect(b.take(6, 100_000)).toBe(false); // more than capacity: never
    expect(b.take(5, 100_000)).toBe(true);
  });

  it('Infinity disables it', () => {
    const b = new TokenBucket(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0);
    for (let i = 0; i < 1000; i++) expect(b.take(1e9, 0)).toBe(true);
  });
});

describe('PeerRateLimiter', () => {
  const options = {
    ...defaultRateLimitOptions,
    bytesPerSecond: 1000,
    bytesBurst: 2000,
    messagesPerSecond: 10,
    messagesBurst: 5,
    excessBurst: 3,
    excessPerSecond: 1,
  };

  it('accepts within the burst, discards over it, drops a peer that keeps exceeding', () => {
    const l = new PeerRateLimiter(options, 0);
    for (let i = 0; i < 5; i++) expect(l.check(10, 0)).toBe('accept');
    expect([l.check(10, 0), l.check(10, 0), l.check(10, 0)]).toEqual(['discard', 'discard', 'discard']);
    expect(l.check(10, 0)).toBe('drop');
    expect(l.discarded).toBe(4);
  });

  it('forgives a peer that slows down: excess tokens come back', () => {
    const l = new PeerRateLimiter(options, 0);
    for (let i = 0; i < 5; i++) l.check(10, 0);
    expect(l.check(10, 0)).toBe('discard');
    expect(l.check(10, 0)).toBe('discard');
    // 10 s later: both buckets full again.
    for (let i = 0; i < 5; i++) expect(l.check(10, 10_000)).toBe('accept');
    for (let i = 0; i < 3; i++) expect(l.check(10, 10_000)).toBe('discard');
    expect(l.check(10, 10_000)).toBe('drop');
  });

  it('limits bytes, and a discarded frame costs no message token', () => {
    const l = new PeerRateLimiter(options, 0);
    expect(l.check(1500, 0)).toBe('accept');
    expect(l.check(1500, 0)).toBe('discard'); // 500 bytes left
    expect(l.check(500, 0)).toBe('accept'); // the discard took no message token: 3 left
    expect(l.check(1, 1000)).toBe('accept');
  });
});

describe('BanList', () => {
  it('bans until a time, then forgets', () => {
    const bans = new BanList();
    bans.ban('p', 1000);
    expect(bans.bannedUntil('p', 999)).toBe(1000);
    expect(bans.bannedUntil('p', 1000)).toBeUndefined();
    expect(bans.size).toBe(0);
  });

  it('stays bounded: the oldest ban goes first', () => {
    const bans = new BanList(3);
    for (const p of ['a', 'b', 'c', 'd']) bans.ban(p, 10);
    expect(bans.size).toBe(3);
    expect(bans.bannedUntil('a', 0)).toBeUndefined();
    expect(bans.bannedUntil('d', 0)).toBe(10);
  });
});
