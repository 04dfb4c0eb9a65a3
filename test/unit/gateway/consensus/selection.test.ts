import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leagueIndexes } from '../../../../core/committee.js';
import { type Candidate, proposerIndex, selectCommittee } from '../../../../gateway/consensus/selection.js';
import { testCrypto as crypto } from '../../../helpers/crypto.js';

const key = (i: number) => {
  const k = new Uint8Array(48);
  new DataView(k.buffer).setUint32(0, i * 2654435761);
  k[47] = i & 0xff;
  return k;
};
const seed = (s: number) => crypto.sha256(Uint8Array.of(s));
const candidates = (n: number, weight = (i: number) => BigInt(100 + i)): Candidate[] =>
  Array.from({ length: n }, (_, i) => ({ blsPublicKey: key(i), weight: weight(i) }));
const base = { chainId: 'c', shard: 0, epoch: 5, leagueSize: 4 };

describe('selectCommittee', () => {
  it('takes everyone eligible when they fit, in key order', () => {
    const c = selectCommittee(crypto, {
      ...base,
      size: 10,
      seed: seed(1),
      eligible: candidates(7),
      previous: [],
    });
    expect(c.members).toHaveLength(7);
    for (let i = 1; i < 7; i++)
      expect(Buffer.compare(c.members[i - 1]!.blsPublicKey, c.members[i]!.blsPublicKey)).toBe(-1);
  });

  it('is deterministic and independent of the order candidates are listed in', () => {
    const list = candidates(50);
    const a = selectCommittee(crypto, { ...base, size: 16, seed: seed(2), eligible: list, previous: [] });
    const b = selectCommittee(crypto, {
      ...base,
      size: 16,
      seed: seed(2),
      eligible: [...list].reverse(),
      previous: [],
    });
    expect(a).toEqual(b);
    const c = selectCommittee(crypto, { ...base, size: 16, seed: seed(3), eligible: list, previous: [] });
    expect(c).not.toEqual(a);
  });

  it('changes fewer than 1/3 of the seats from one epoch to the next', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 30 }), fc.integer({ min: 0, max: 1000 }), (size, s) => {
        const list = candidates(size * 3);
        const prev = selectCommittee(crypto, { ...base, size, seed: seed(s), eligible: list, previous: [] });
        const next = selectCommittee(crypto, {
          ...base,
          size,
          seed: seed(s + 1),
          eligible: list,
          previous: prev.members.map((m) => m.blsPublicKey),
        });
        const before = new Set(prev.members.map((m) => m.blsPublicKey.join()));
        const changed = next.members.filter((m) => !before.has(m.blsPublicKey.join())).length;
        expect(changed * 3).toBeLessThan(size);
      }),
      { numRuns: 60 },
    );
  });

  it('heavier candidates are chosen more often (weighted sampling)', () => {
    const list = candidates(40, (i) => (i < 20 ? 1n : 9n));
    let heavy = 0;
    for (let s = 0; s < 200; s++) {
      const c = selectCommittee(crypto, { ...base, size: 8, seed: seed(s), eligible: list, previous: [] });
      heavy += c.members.filter(
        (m) => list.findIndex((x) => x.blsPublicKey.join() === m.blsPublicKey.join()) >= 20,
      ).length;
    }
    // Without replacement the share of heavy members is well above their 1/2 share of candidates.
    expect(heavy / (200 * 8)).toBeGreaterThan(0.75);
  });

  it('never seats a candidate of weight 0, and refuses an empty eligible set', () => {
    const list = [...candidates(3), { blsPublicKey: key(99), weight: 0n }];
    const c = selectCommittee(crypto, { ...base, size: 10, seed: seed(1), eligible: list, previous: [] });
    expect(c.members).toHaveLength(3);
    expect(() =>
      selectCommittee(crypto, { ...base, size: 4, seed: seed(1), eligible: [], previous: [] }),
    ).toThrow(RangeError);
  });
});

describe('proposerIndex', () => {
  const committee = selectCommittee(crypto, {
    ...base,
    size: 8,
    seed: seed(7),
    eligible: candidates(8, (i) => BigInt(10 * (i + 1))),
    previous: [],
  });
  const league = new Set(leagueIndexes(committee));

  it('picks league members only, in proportion to weight, deterministically', () => {
    const counts = new Map<number, number>();
    for (let h = 1; h <= 4000; h++) {
      const p = proposerIndex(crypto, committee, league, seed(9), h, 0);
      expect(league.has(p)).toBe(true);
      expect(proposerIndex(crypto, committee, league, seed(9), h, 0)).toBe(p);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const total = [...league].reduce((s, i) => s + committee.members[i]!.weight, 0);
    for (const i of league) {
      const expected = (4000 * committee.members[i]!.weight) / total;
      expect(Math.abs((counts.get(i) ?? 0) - expected)).toBeLessThan(expected * 0.2);
    }
  });

  it('another view of the same height usually has another proposer', () => {
    let differs = 0;
    for (let h = 1; h <= 200; h++) {
      if (
        proposerIndex(crypto, committee, league, seed(9), h, 0) !==
        proposerIndex(crypto, committee, league, seed(9), h, 1)
      )
        differs++;
    }
    expect(differs).toBeGreaterThan(100);
  });
});
