import { afterEach, describe, expect, it } from 'vitest';
import { type LmdbDatabase, openDatabase } from '../../../../gateway/db/lmdb.js';
import { DbNamespace, heightKey, namespaceDbName, readU64 } from '../../../../gateway/db/namespaces.js';
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
});
