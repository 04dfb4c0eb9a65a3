/**
 * Full in-process DKG and beacon runs (docs/beacon.md): honest runs for n = 4, 7, 16 with uneven weights,
 * cheating dealers, false and invalid complaints, missing dealers, thresholds, and verification of the group
 * signature by both Crypto backends.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { equalBytes } from '../../../../core/bytes.js';
import type { Crypto } from '../../../../core/crypto.js';
import { createPortableCrypto } from '../../../../core/crypto-portable.js';
import { ArgumentError, DecodeError, VerifyError } from '../../../../core/errors.js';
import { MAX_DKG_DEALING_BYTES } from '../../../../core/tx.js';
import {
  Fr,
  G1,
  g1Base,
  interpolateAtZero,
  scalarToBytes,
} from '../../../../gateway/consensus/beacon/curve.js';
import { nodeScalar as nodeScalarOf } from '../../../../gateway/consensus/beacon/edwards.js';
import {
  BATCH_CHECK_MIN_SHARES,
  beaconMessage,
  beaconSeed,
  combine,
  combineVerified,
  createComplaint,
  createDealing,
  type Dealing,
  dealingByteLength,
  decodeDealing,
  decodeGroupCommitments,
  decodePartialSignatures,
  encodePartialSignatures,
  openShares,
  type PartialSignature,
  partialSign,
  prepareContext,
  publicShareKey,
  qualify,
  type Share,
  verifyComplaint,
  verifyDealingPublic,
  verifyPartial,
} from '../../../../gateway/consensus/beacon/index.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { deterministicRandomBytes } from '../../../helpers/crypto.js';
import {
  type Corruption,
  committee,
  type DkgRun,
  maliciousDealing,
  replaceEncryptedShare,
  runDkg,
} from './fixtures.js';

const native = createNativeCrypto();
const portable = createPortableCrypto(deterministicRandomBytes('beacon-portable'));
const backends: Crypto[] = [native, portable];

const W4 = [5, 11, 3, 7];
const W7 = [1, 2, 3, 50, 8, 13, 21];
const W16 = Array.from({ length: 16 }, (_, i) => 1 + ((i * 37) % 23) * (i % 3 === 0 ? 10 : 1));

function allShares(run: DkgRun, members?: readonly number[]): Share[] {
  const out: Share[] = [];
  for (const [i, s] of run.shares) if (!members || members.includes(i)) out.push(...s);
  return out;
}

/** The group secret, from t shares (only a test can do this: it holds everyone's shares). */
function groupSecret(run: DkgRun): bigint {
  const shares = allShares(run).slice(0, run.result.threshold);
  return interpolateAtZero(shares.map((s) => ({ x: BigInt(s.index), y: s.value })));
}

/** The sub-third coalition with the most shares, by brute force. */
function heaviestSubThirdCoalition(weights: readonly number[], counts: readonly number[]): number[] {
  const W = weights.reduce((a, b) => a + b, 0);
  let best: number[] = [];
  let bestK = -1;
  for (let mask = 0; mask < 1 << weights.length; mask++) {
    let w = 0;
    let k = 0;
    const members: number[] = [];
    for (let i = 0; i < weights.length; i++) {
      if (mask & (1 << i)) {
        w += weights[i]!;
        k += counts[i]!;
        members.push(i);
      }
    }
    if (3 * w < W && k > bestK) {
      bestK = k;
      best = members;
    }
  }
  return best;
}

describe.each([
  { n: 4, weights: W4 },
  { n: 7, weights: W7 },
  { n: 16, weights: W16 },
])('honest DKG and beacon, n = $n', ({ n, weights }) => {
  const tc = committee(`honest-${n}`, weights);
  const { alloc } = prepareContext(tc.ctx);
  const msg = beaconMessage(native, tc.ctx.chainId, tc.ctx.shard, tc.ctx.epoch);
  let run: DkgRun;
  let partials: PartialSignature[];
  beforeAll(() => {
    run = runDkg(tc);
    partials = [...run.shares.values()].flatMap((s) => partialSign(native, s, msg));
  });

  it('every dealer qualifies and the group key is g1 times the shared secret', () => {
    expect(run.complaints).toEqual([]);
    expect(run.result.qualified).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(run.result.threshold).toBe(alloc.threshold);
    expect(run.result.groupCommitments.length).toBe(alloc.threshold);
    const sk = groupSecret(run);
    expect(equalBytes(g1Base(sk).toBytes(), run.result.groupPublicKey)).toBe(true);
    // Each share's public key is [share]g1.
    for (const s of allShares(run))
      expect(publicShareKey(run.result.groupCommitments, s.index).equals(g1Base(s.value))).toBe(true);
    // The recorded bytes decode back to the same commitments.
    const back = decodeGroupCommitments(run.result.groupCommitmentBytes, alloc.threshold);
    back.forEach((p, j) => {
      expect(p.equals(run.result.groupCommitments[j]!)).toBe(true);
    });
  });

  it('each dealing has the announced size', () => {
    for (const [d, bytes] of run.dealings) expect(bytes.length).toBe(dealingByteLength(tc.ctx, d));
  });

  it('t partials combine to THE group signature, which both backends verify', () => {
    const { signature, rejected } = combineVerified(native, run.result.groupCommitments, msg, partials);
    expect(rejected).toEqual([]);
    for (const c of backends) {
      const pk = c.bls.parsePublicKey(run.result.groupPublicKey)!;
      expect([c.name, c.bls.verify(signature, msg, pk)]).toEqual([c.name, true]);
    }
    // Unique: it is exactly the plain BLS signature by the group secret.
    expect(signature).toEqual(native.bls.sign(msg, scalarToBytes(groupSecret(run))));
    const seed = beaconSeed(native, signature);
    expect(seed).toEqual(beaconSeed(portable, signature));
    expect(seed.length).toBe(32);
  });

  it('a coalition under 1/3 of the weight holds fewer than t shares; the rest hold at least t', () => {
    const coalition = heaviestSubThirdCoalition(weights, alloc.counts);
    const mine = partials.filter((p) => coalition.includes(memberOf(p.index)));
    expect(mine.length).toBe(alloc.maxSubThirdShares);
    expect(mine.length).toBeLessThan(alloc.threshold);
    expect(() => combine(mine, alloc.threshold)).toThrow(ArgumentError);
    // Pretending t − 1 suffice gives a wrong signature.
    if (mine.length > 0) {
      const wrong = combine(mine, mine.length);
      const pk = native.bls.parsePublicKey(run.result.groupPublicKey)!;
      expect(native.bls.verify(wrong, msg, pk)).toBe(false);
    }
    const honest = partials.filter((p) => !coalition.includes(memberOf(p.index)));
    expect(honest.length).toBeGreaterThanOrEqual(alloc.threshold);
    const sig = combineVerified(native, run.result.groupCommitments, msg, honest).signature;
    expect(sig).toEqual(combine(partials, alloc.threshold));
  });

  function memberOf(x: number): number {
    let i = 0;
    while (alloc.starts[i + 1] !== undefined && alloc.starts[i + 1]! < x) i++;
    return i;
  }
});

describe('threshold signing details', () => {
  const tc = committee('sign-7', W7);
  const msg = beaconMessage(native, tc.ctx.chainId, tc.ctx.shard, tc.ctx.epoch);
  const member = 3; // the heaviest: many shares
  let run: DkgRun;
  let shares: Share[];
  beforeAll(() => {
    run = runDkg(tc);
    shares = run.shares.get(member)!;
  });

  it('both backends produce identical partials (BLS is deterministic)', () => {
    expect(partialSign(portable, shares.slice(0, 2), msg)).toEqual(
      partialSign(native, shares.slice(0, 2), msg),
    );
  });

  it('verifyPartial accepts a good partial and refuses a wrong index, message or point, on both backends', () => {
    const [p, q] = partialSign(native, shares.slice(0, 2), msg) as [PartialSignature, PartialSignature];
    const C = run.result.groupCommitments;
    for (const c of backends) {
      expect(verifyPartial(c, C, p.index, msg, p.signature)).toBe(true);
      expect(verifyPartial(c, C, q.index, msg, p.signature)).toBe(false);
      expect(verifyPartial(c, C, p.index, new Uint8Array(32), p.signature)).toBe(false);
      const flipped = p.signature.slice();
      flipped[95]! ^= 1;
      expect(verifyPartial(c, C, p.index, msg, flipped)).toBe(false);
      expect(verifyPartial(c, C, 0, msg, p.signature)).toBe(false);
    }
  });

  it('combineVerified drops bad partials and still finds the signature', () => {
    const all = [...run.shares.values()].flatMap((s) => partialSign(native, s, msg));
    const good = combine(all, run.result.threshold);
    // Corrupt the first two partials: one swapped with another index's, one a valid point on another message.
    const [a, b] = all as [PartialSignature, PartialSignature];
    const other = partialSign(native, [shares[0]!], new Uint8Array(32))[0]!;
    const bad: PartialSignature[] = [
      { index: a.index, signature: b.signature },
      { index: b.index, signature: other.signature },
      ...all.slice(2),
    ];
    const res = combineVerified(native, run.result.groupCommitments, msg, bad);
    expect(res.signature).toEqual(good);
    expect(res.rejected).toEqual([a.index, b.index].sort((x, y) => x - y));
    // Not enough valid partials left.
    const few = bad.slice(0, run.result.threshold);
    expect(() => combineVerified(native, run.result.groupCommitments, msg, few)).toThrow(VerifyError);
  });

  it('a zero share signs as the identity and still combines', () => {
    // f(X) = a·(X − 5): the share at index 5 is 0, its public key the identity.
    const a = 0x1234567n;
    const f = (x: bigint) => Fr.mul(a, Fr.sub(x, 5n));
    const C = [G1.BASE.multiply(f(0n)), G1.BASE.multiply(a)];
    const s5: Share = { index: 5, value: f(5n) };
    expect(s5.value).toBe(0n);
    const [p5] = partialSign(native, [s5], msg) as [PartialSignature];
    expect(p5.signature[0]).toBe(0xc0);
    expect(verifyPartial(native, C, 5, msg, p5.signature)).toBe(true);
    const p2 = partialSign(native, [{ index: 2, value: f(2n) }], msg)[0]!;
    expect(verifyPartial(native, C, 2, msg, p2.signature)).toBe(true);
    const sig = combineVerified(native, C, msg, [p5, p2]).signature;
    expect(sig).toEqual(native.bls.sign(msg, scalarToBytes(f(0n))));
    expect(() => partialSign(native, [{ index: 1, value: -1n }], msg)).toThrow(ArgumentError);
  });

  it('partial-signature messages round-trip and are checked against the context', () => {
    const ps = partialSign(native, shares, msg);
    const bytes = encodePartialSignatures(tc.ctx, member, ps);
    expect(decodePartialSignatures(tc.ctx, bytes)).toEqual({ memberIndex: member, partials: ps });
    const other = committee('sign-7', W7, { epoch: 43 });
    expect(() => decodePartialSignatures(other.ctx, bytes)).toThrow(DecodeError);
    expect(() => encodePartialSignatures(tc.ctx, member, ps.slice(1))).toThrow(ArgumentError);
    expect(() => decodePartialSignatures(tc.ctx, bytes.subarray(0, bytes.length - 1))).toThrow(DecodeError);
  });
});

describe('cheating dealers and complaints (n = 7)', () => {
  const tc = committee('cheat-7', W7);
  const { ctx } = tc;
  const { alloc } = prepareContext(ctx);
  const victim = 4;
  const victimShare = alloc.starts[victim]! + 1;
  const cheater = 2;

  it.each<Corruption>(['wrong-value', 'out-of-range', 'bad-ciphertext'])(
    'a dealer that deals garbage (%s) to one member is disqualified; the DKG succeeds',
    (how) => {
      const reason = { 'wrong-value': 'commitment', 'out-of-range': 'range', 'bad-ciphertext': 'decrypt' }[
        how
      ];
      const run = runDkg(tc, {
        tamper: (d, bytes) =>
          d === cheater ? maliciousDealing(ctx, d, new Map([[victimShare, how]])) : bytes,
      });
      // Publicly the dealing looks fine.
      expect(verifyDealingPublic(ctx, run.dealings.get(cheater)!).dealerIndex).toBe(cheater);
      const opened = run.openings.get(victim)!.get(cheater)!;
      expect(opened.ok).toBe(false);
      if (opened.ok) return;
      expect(opened.reason).toBe(reason);
      expect(opened.shareIndex).toBe(victimShare);
      // Everyone else's shares of the cheater are fine: exactly one complaint.
      expect(run.complaints).toEqual([opened.complaint]);
      expect(verifyComplaint(ctx, run.dealings.get(cheater)!, opened.complaint)).toBe(true);
      expect(run.result.disqualified.get(cheater)).toBe('complaint');
      expect(run.result.complaintOutcomes).toEqual(['justified']);
      expect(run.result.qualified).toEqual([0, 1, 3, 4, 5, 6]);
      // The group key is the sum of the qualified dealers' constant terms only.
      let sum = G1.ZERO;
      for (const d of run.result.qualified)
        sum = sum.add(decodeDealing(ctx, run.dealings.get(d)!).commitments[0]!);
      expect(equalBytes(sum.toBytes(), run.result.groupPublicKey)).toBe(true);
      const msg = beaconMessage(native, ctx.chainId, ctx.shard, ctx.epoch);
      const partials = [...run.shares.values()].flatMap((s) => partialSign(native, s, msg));
      const { signature } = combineVerified(native, run.result.groupCommitments, msg, partials);
      expect(
        portable.bls.verify(signature, msg, portable.bls.parsePublicKey(run.result.groupPublicKey)!),
      ).toBe(true);
    },
  );

  it('random bytes in place of a ciphertext: a justified complaint', () => {
    const honest = createDealing(ctx, cheater, tc.secrets[cheater]!, deterministicRandomBytes('garbage'));
    const garbage = replaceEncryptedShare(ctx, honest, victimShare, new Uint8Array(48).fill(0xab));
    const res = openShares(ctx, garbage, victim, tc.secrets[victim]!);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.reason).toBe('decrypt');
      expect(verifyComplaint(ctx, garbage, res.complaint)).toBe(true);
      // The same complaint is not valid against the honest dealing: it names the dealing by its id.
      expect(() => verifyComplaint(ctx, honest, res.complaint)).toThrow(VerifyError);
    }
  });

  describe('with an honest run', () => {
    const honestDealer = 1;
    const liar = 5;
    const liarShare = alloc.starts[liar]! + 1;
    const { x } = nodeScalarOf(tc.secrets[liar]!);
    let run: DkgRun;
    let dealing: Dealing;
    let falseComplaint: Uint8Array;
    beforeAll(() => {
      run = runDkg(tc, { rngSeed: 'honest-for-complaints' });
      dealing = decodeDealing(ctx, run.dealings.get(honestDealer)!);
      falseComplaint = createComplaint(ctx, dealing, liar, liarShare, x);
    });

    it('a false complaint is not justified; qualify disqualifies the accuser instead', () => {
      expect(verifyComplaint(ctx, dealing, falseComplaint)).toBe(false);
      const res = qualify(ctx, run.dealings, [falseComplaint]);
      expect(res.complaintOutcomes).toEqual(['false']);
      expect(res.falseAccusers).toEqual([liar]);
      expect(res.disqualified.get(liar)).toBe('false-complaint');
      expect(res.disqualified.has(honestDealer)).toBe(false);
      expect(res.qualified).toEqual([0, 1, 2, 3, 4, 6]);
    });

    it('invalid complaints prove nothing and are ignored', () => {
      // The liar accuses a share that is not its own.
      const notMine = createComplaint(ctx, dealing, liar, victimShare, x);
      expect(() => verifyComplaint(ctx, dealing, notMine)).toThrow(VerifyError);
      // A proof by someone else's key (complainer index rewritten): the DLEQ fails.
      const forged = createComplaint(ctx, dealing, victim, victimShare, x);
      expect(() => verifyComplaint(ctx, dealing, forged)).toThrow(VerifyError);
      // Against another dealing than the one it was made for.
      expect(() => verifyComplaint(ctx, run.dealings.get(0)!, falseComplaint)).toThrow(VerifyError);
      // Wrong epoch context.
      const later = committee('cheat-7', W7, { epoch: 43 }).ctx;
      expect(() => verifyComplaint(later, dealing.bytes, falseComplaint)).toThrow();
      const res = qualify(ctx, run.dealings, [notMine, forged, new Uint8Array([0x80]), null]);
      expect(res.complaintOutcomes).toEqual(['invalid', 'invalid', 'invalid', 'invalid']);
      expect(res.qualified).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });

    it('a complaint against a missing dealing is moot', () => {
      const without = new Map(run.dealings);
      without.delete(honestDealer);
      const res = qualify(ctx, without, [falseComplaint]);
      expect(res.complaintOutcomes).toEqual(['moot']);
      expect(res.disqualified.get(honestDealer)).toBe('missing');
      expect(res.falseAccusers).toEqual([]);
    });

    it('results do not depend on the order of complaints', () => {
      const other = createComplaint(
        ctx,
        decodeDealing(ctx, run.dealings.get(0)!),
        6,
        alloc.starts[6]! + 1,
        nodeScalarOf(tc.secrets[6]!).x,
      );
      const a = qualify(ctx, run.dealings, [falseComplaint, other]);
      const b = qualify(ctx, run.dealings, [other, falseComplaint]);
      expect(a.qualified).toEqual(b.qualified);
      expect(a.groupPublicKey).toEqual(b.groupPublicKey);
      expect(a.falseAccusers).toEqual([5, 6]);
    });
  });

  it('a dealer that never deals is disqualified; the DKG succeeds', () => {
    const run = runDkg(tc, { missing: [3] }); // the heaviest member (50 of 98)
    expect(run.result.disqualified.get(3)).toBe('missing');
    expect(run.result.qualified).toEqual([0, 1, 2, 4, 5, 6]);
    const msg = beaconMessage(native, ctx.chainId, ctx.shard, ctx.epoch);
    // Member 3 still holds its shares of the qualified dealings and signs with them.
    const partials = [...run.shares.values()].flatMap((s) => partialSign(native, s, msg));
    const { signature } = combineVerified(native, run.result.groupCommitments, msg, partials);
    expect(native.bls.verify(signature, msg, native.bls.parsePublicKey(run.result.groupPublicKey)!)).toBe(
      true,
    );
  });

  it('the DKG fails when the qualified dealers hold at most 1/3 of the weight', () => {
    // Members 0, 1, 2, 4 hold 14 of 98.
    expectCode(() => runDkg(tc, { missing: [3, 5, 6] }), 'VERIFY_INSUFFICIENT_WEIGHT');
  });

  it("a dealer cannot reuse another dealer's ephemeral key (the complaint-oracle attack)", () => {
    const rng = deterministicRandomBytes('reuse');
    const victimDealing = decodeDealing(ctx, createDealing(ctx, 1, tc.secrets[1]!, rng));
    const own = createDealing(ctx, cheater, tc.secrets[cheater]!, rng);
    const copied = own.slice();
    const ownDecoded = decodeDealing(ctx, own);
    copied.set(victimDealing.ephemeralKeyBytes, indexOf(own, ownDecoded.ephemeralKeyBytes));
    copied.set(victimDealing.ephemeralProof, indexOf(own, ownDecoded.ephemeralProof));
    expect(decodeDealing(ctx, copied).ephemeralKeyBytes).toEqual(victimDealing.ephemeralKeyBytes);
    expectCode(() => verifyDealingPublic(ctx, copied), 'VERIFY_PROOF_INVALID');
    const run = runDkg(tc, { tamper: (d, bytes) => (d === cheater ? copied : bytes), rngSeed: 'reuse-run' });
    expect(run.result.disqualified.get(cheater)).toBe('invalid');
  });

  it('dealings are bound to their context and dealer', () => {
    const d = createDealing(ctx, 0, tc.secrets[0]!, deterministicRandomBytes('ctx'));
    const otherShard = committee('cheat-7', W7, { shard: 4 }).ctx;
    expectCode(() => verifyDealingPublic(otherShard, d), 'VERIFY_PROOF_INVALID');
    const otherEpoch = committee('cheat-7', W7, { epoch: 41 }).ctx;
    expectCode(() => verifyDealingPublic(otherEpoch, d), 'VERIFY_INVALID_FIELD');
    expectCode(() => verifyDealingPublic(ctx, d, 1), 'VERIFY_INVALID_FIELD');
    // Dealer 0's dealing published as dealer 1's.
    const run = runDkg(tc, { tamper: (i, bytes) => (i === 1 ? d : bytes), rngSeed: 'ctx-run' });
    expect(run.result.disqualified.get(1)).toBe('invalid');
  });

  it('refuses a secret that is not the member’s node key', () => {
    const rng = deterministicRandomBytes('wrong');
    expect(() => createDealing(ctx, 0, tc.secrets[1]!, rng)).toThrow(ArgumentError);
    const d = createDealing(ctx, 0, tc.secrets[0]!, rng);
    expect(() => openShares(ctx, d, 2, tc.secrets[3]!)).toThrow(ArgumentError);
  });
});

describe('heavy members and zero-share members', () => {
  it('a bad share of a heavy member (batched check) is found and becomes a justified complaint', () => {
    const tc = committee('heavy-16', W16);
    const { alloc } = prepareContext(tc.ctx);
    const heavy = 3;
    expect(alloc.counts[heavy]).toBeGreaterThanOrEqual(BATCH_CHECK_MIN_SHARES);
    const good = maliciousDealing(tc.ctx, 0, new Map());
    const ok = openShares(tc.ctx, good, heavy, tc.secrets[heavy]!);
    expect(ok.ok && ok.shares.length).toBe(alloc.counts[heavy]);
    const bad = alloc.starts[heavy]! + 9;
    const dealing = maliciousDealing(tc.ctx, 0, new Map([[bad, 'wrong-value']]));
    const res = openShares(tc.ctx, dealing, heavy, tc.secrets[heavy]!);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect([res.shareIndex, res.reason]).toEqual([bad, 'commitment']);
      expect(verifyComplaint(tc.ctx, dealing, res.complaint)).toBe(true);
    }
  });

  it('a committee in the zero-share fallback runs the DKG and signs', () => {
    const weights = [...Array<number>(13).fill(1), 1000, 2000, 2100];
    const tc = committee('zero-16', weights, { maxTotalShares: 32 });
    const { alloc } = prepareContext(tc.ctx);
    expect(alloc.everyMemberHasShares).toBe(false);
    const run = runDkg(tc);
    expect(run.result.qualified.length).toBe(16); // zero-share members still deal
    expect(run.shares.get(0)).toEqual([]);
    const msg = beaconMessage(native, tc.ctx.chainId, tc.ctx.shard, tc.ctx.epoch);
    expect(() => encodePartialSignatures(tc.ctx, 0, [])).toThrow(ArgumentError);
    // Members 0..13 hold 1013 of 5113 (< 1/3) and 6 shares < t; members 14 and 15 (> 2/3) can sign.
    const coalition = Array.from({ length: 14 }, (_, i) => i).flatMap((i) =>
      partialSign(native, run.shares.get(i)!, msg),
    );
    expect(coalition.length).toBe(6);
    expect(() => combine(coalition, alloc.threshold)).toThrow(ArgumentError);
    const all = [14, 15].flatMap((i) => partialSign(native, run.shares.get(i)!, msg));
    const { signature } = combineVerified(native, run.result.groupCommitments, msg, all);
    expect(portable.bls.verify(signature, msg, portable.bls.parsePublicKey(run.result.groupPublicKey)!)).toBe(
      true,
    );
  });
});

describe('sizes', () => {
  it('n = 64 with 4n shares fits a dkgDeal transaction', () => {
    const weights = Array.from({ length: 64 }, (_, i) => 100 + ((i * 7919) % 900));
    const tc = committee('size-64', weights);
    const { alloc } = prepareContext(tc.ctx);
    expect(alloc.total).toBe(256);
    const size = dealingByteLength(tc.ctx, 63);
    expect(size).toBeLessThanOrEqual(MAX_DKG_DEALING_BYTES);
  });

  it('createDealing refuses a context whose dealings would not fit', () => {
    const tc = committee('size-200', Array<number>(200).fill(1));
    expect(dealingByteLength(tc.ctx)).toBeGreaterThan(MAX_DKG_DEALING_BYTES);
    expect(() => createDealing(tc.ctx, 0, tc.secrets[0]!, deterministicRandomBytes('big'))).toThrow(
      ArgumentError,
    );
  });
});

// ------------------------------------------------------------------------------------------- helpers

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('needle not found');
}

function expectCode(f: () => unknown, code: string): void {
  try {
    f();
  } catch (e) {
    expect((e as { code?: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}
