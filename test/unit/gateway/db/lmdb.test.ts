import { afterEach, describe, expect, it } from 'vitest';
import { type LmdbDatabase, openDatabase } from '../../../../gateway/db/lmdb.js';
import {
  COMPRESSED_NAMESPACES,
  DbNamespace,
  heightKey,
  namespaceDbName,
  readU64,
} from '../../../../gateway/db/namespaces.js';
import { tempDir } from '../state/helpers.js';

const dir = tempDir('db');
let db: LmdbDatabase;
afterEach(async () => {
  await db.close();
  dir.remove();
});

describe('lmdb database', () => {
  it('numbers namespaces uniquely and names sub-databases by number', () => {
    db = openDatabase({ path: dir.path, noSync: true });
    const numbers = Object.values(DbNamespace);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(namespaceDbName('smtNode')).toBe('12-smtNode');
    expect(readU64(heightKey(2 ** 40 + 5))).toBe(2 ** 40 + 5);
  });

  it('writes atomically, runs afterCommit only on commit, and hands out owned copies', () => {
    db = openDatabase({ path: dir.path, noSync: true });
    const b = db.bucket('meta');
    const seen: string[] = [];
    expect(() =>
      db.transaction(() => {
        b.put(Uint8Array.of(1), Uint8Array.of(1));
        db.afterCommit(() => seen.push('aborted'));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(b.get(Uint8Array.of(1))).toBeUndefined();
    db.transaction(() => {
      b.put(Uint8Array.of(1), Uint8Array.of(1, 2, 3));
      db.transaction(() => b.put(Uint8Array.of(2), Uint8Array.of(4)));
      db.afterCommit(() => seen.push('committed'));
    });
    expect(seen).toEqual(['committed']);
    const v = b.get(Uint8Array.of(1))!;
    expect(v).toEqual(Uint8Array.of(1, 2, 3));
    expect(v.constructor).toBe(Uint8Array);
    b.get(Uint8Array.of(2));
    expect(v).toEqual(Uint8Array.of(1, 2, 3));
    expect([...b.range()].map(([k]) => k[0])).toEqual([1, 2]);
    expect(() => b.put(Uint8Array.of(3), Uint8Array.of(3))).toThrow(
      expect.objectContaining({ code: 'DB_NO_TRANSACTION' }),
    );
    const usage = db.diskUsage();
    expect(usage.fileBytes).toBeGreaterThanOrEqual(usage.usedBytes);
  });

  it('returns values of compressed namespaces byte-identical, large or small, through get and range', async () => {
    db = openDatabase({ path: dir.path, noSync: true });
    expect(COMPRESSED_NAMESPACES.has('stateDelta')).toBe(true);
    let seed = 1;
    const random = (n: number) =>
      Uint8Array.from({ length: n }, () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed >>> 24;
      });
    // Half random, half repeated structure (like blocks of transfers): compressible, above the threshold.
    const big = (i: number) => {
      const v = new Uint8Array(200_000 + i).fill(i);
      for (let o = 0; o + 64 <= v.length; o += 128) v.set(random(64), o);
      v[0] = 0x84;
      return v;
    };
    const values: Uint8Array[] = [
      big(0),
      big(1),
      Uint8Array.of(255, 1, 2), // small, first byte >= 250: lmdb-js must mark it, not misread it
      Uint8Array.of(254),
      new Uint8Array(0),
      random(999),
      random(1000),
      (() => {
        const v = random(5000);
        v[0] = 250;
        return v;
      })(),
    ];
    const b = db.bucket('stateDelta');
    db.transaction(() => {
      for (const [i, v] of values.entries()) b.put(heightKey(i), v);
    });
    // Compared as hex: toEqual walks 200 KB arrays element by element (seconds).
    const hex = (v: Uint8Array | undefined) => (v === undefined ? 'none' : Buffer.from(v).toString('hex'));
    const want = values.map(hex);
    const check = () => {
      const bucket = db.bucket('stateDelta');
      expect(values.map((_, i) => hex(bucket.get(heightKey(i))))).toEqual(want);
      expect([...bucket.range()].map(([, v]) => hex(v))).toEqual(want);
      expect([...bucket.range({ reverse: true })].map(([, v]) => hex(v))).toEqual([...want].reverse());
    };
    check();
    const usage = db.diskUsage();
    // The two 200 KB values, half of their bytes repeated, take well under their raw 100 pages.
    expect(usage.byNamespace.stateDelta!).toBeLessThan(320_000);
    await db.close();
    db = openDatabase({ path: dir.path, noSync: true });
    check();
  });
});
