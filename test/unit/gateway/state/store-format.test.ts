import { afterEach, describe, expect, it } from 'vitest';
import { TOTAL_SUPPLY } from '../../../../core/token.js';
import { createStateHasher } from '../../../../gateway/state/hasher.js';
import {
  type Change,
  decodeChanges,
  decodeDelta,
  encodeChanges,
  encodeDelta,
  encodeStoredRecord,
  META,
  metaKey,
} from '../../../../gateway/state/store-format.js';
import { ed25519Key } from '../../../helpers/keys.js';
import { context, crypto, type Harness, openHarness, transfer, whale } from './helpers.js';

const hasher = createStateHasher(crypto);
const keyOf = (namespace: number, id: Uint8Array) => hasher.stateKey(namespace, id);
const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

describe('change lists', () => {
  const stored = (namespace: number, id: Uint8Array, record: Uint8Array) =>
    encodeStoredRecord({ namespace, id, record });
  const a = stored(1, ed25519Key('fmt/a').address, Uint8Array.of(0x84, 1, 2, 3));
  const b = stored(7, new Uint8Array(64).fill(9), new Uint8Array(300).fill(5)); // a 2-byte length
  const changes: Change[] = [
    [keyOf(1, ed25519Key('fmt/a').address), a],
    [keyOf(3, ed25519Key('fmt/gone').address), null],
    [keyOf(7, new Uint8Array(64).fill(9)), b],
  ];

  it('round-trips records (key derived from namespace and id) and absences (key written)', () => {
    const bytes = encodeChanges(changes);
    expect(bytes.length).toBe(4 + (1 + a.length) + 33 + (2 + b.length));
    expect(decodeChanges(bytes, keyOf)).toEqual(changes);
    const root = new Uint8Array(32).fill(0xfe);
    expect(decodeDelta(encodeDelta({ root, changes }), keyOf)).toEqual({ root, changes });
    expect(decodeChanges(encodeChanges([]), keyOf)).toEqual([]);
  });

  it('refuses truncated, overlong and malformed lists', () => {
    const bytes = encodeChanges(changes);
    const corrupt = expect.objectContaining({ code: 'STATE_CORRUPT' });
    for (const cut of [2, 5, 10, bytes.length - 1]) {
      expect(() => decodeChanges(bytes.subarray(0, cut), keyOf)).toThrow(corrupt);
    }
    expect(() => decodeChanges(Uint8Array.of(...bytes, 0), keyOf)).toThrow(corrupt);
    // A record whose id runs past its end (no record bytes left).
    expect(() => decodeChanges(encodeChanges([['k'.repeat(32), Uint8Array.of(1, 2, 0, 0)]]), keyOf)).toThrow(
      corrupt,
    );
    expect(() => decodeDelta(new Uint8Array(35), keyOf)).toThrow(corrupt);
  });
});

describe('state directories', () => {
  it('reopens with the same retained roots when deltas and undo values are large (compressed)', async () => {
    const h = openHarness();
    open.push(h);
    const users = Array.from({ length: 120 }, (_, i) => ed25519Key(`fmt/user/${i}`).address);
    for (let height = 1; height <= 11; height++) {
      const x = h.state.beginBlock(context(height));
      for (let i = 0; i < 40; i++) {
        const t = transfer(
          whale(),
          users[(height * 41 + i) % users.length]!,
          1n,
          x.getAccount(whale().address).nonce,
        );
        x.apply(t.tx, t.id);
      }
      x.finish();
      h.state.commit(x);
      const before = h.state.retainedHeights().map((at) => [at, h.state.rootAt(at)]);
      await h.reopen();
      expect(h.state.retainedHeights().map((at) => [at, h.state.rootAt(at)])).toEqual(before);
      expect(h.state.totalSupply()).toBe(TOTAL_SUPPLY);
    }
    // Deltas of 40 transfers exceed the compression threshold: they are stored compressed.
    const usage = h.db.diskUsage();
    expect(usage.byNamespace.stateDelta!).toBeGreaterThan(0);
    const raw = [...h.db.bucket('stateDelta').range()].map(([, v]) => v);
    expect(raw.some((v) => v.length > 1000)).toBe(true);
  });

  it('refuses a directory written in an older state format instead of misreading it', async () => {
    const h = openHarness();
    open.push(h);
    h.db.transaction(() => h.db.bucket('meta').delete(metaKey(META.format)));
    await expect(h.reopen()).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });
});
