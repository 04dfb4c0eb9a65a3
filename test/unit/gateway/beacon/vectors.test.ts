/**
 * test/vectors/beacon/*.json: the 4-member transcript must be reproduced from its inputs, and every
 * must-reject dealing and complaint must fail with its code, with both point decoders.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../../core/bytes.js';
import type { Crypto } from '../../../../core/crypto.js';
import { createPortableCrypto } from '../../../../core/crypto-portable.js';
import { IosnetError } from '../../../../core/errors.js';
import {
  type BeaconContext,
  beaconMessage,
  beaconSeed,
  combineVerified,
  decodeComplaint,
  decodeDealing,
  decodePartialSignatures,
  memberSecretShares,
  nativePointDecoder,
  openShares,
  partialSign,
  portablePointDecoder,
  prepareContext,
  qualify,
  type Share,
  setPointDecoder,
  verifyComplaint,
  verifyDealingPublic,
} from '../../../../gateway/consensus/beacon/index.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../vectors/beacon/${name}`, import.meta.url), 'utf8')) as T;
}

interface CtxJson {
  chainId: string;
  shard: number;
  epoch: number;
  members: { nodePublicKey: string; nodeSecret: string; weight: number }[];
  maxTotalShares: number;
}
interface Reject {
  name: string;
  hex: string;
  stage: 'decode' | 'verify';
  error: string;
  field?: string;
}

const toCtx = (c: CtxJson): BeaconContext => ({
  chainId: c.chainId,
  shard: c.shard,
  epoch: c.epoch,
  members: c.members.map((m) => ({ nodePublicKey: fromHex(m.nodePublicKey), weight: m.weight })),
  maxTotalShares: c.maxTotalShares,
});

function errorOf(f: () => unknown): { code: string; field?: unknown } {
  try {
    f();
  } catch (e) {
    if (e instanceof IosnetError) return { code: e.code, field: e.data.field };
    throw e;
  }
  return { code: 'ACCEPTED' };
}

const dkg = load<{
  context: CtxJson;
  allocation: { counts: number[]; total: number; threshold: number; maxSubThirdShares: number };
  dealings: { dealer: number; hex: string }[];
  complaints: { hex: string; outcome: string }[];
  qualified: number[];
  disqualified: Record<string, string>;
  groupCommitments: string;
  groupPublicKey: string;
  shares: { member: number; shares: { index: number; value: string }[] }[];
  beaconMessage: string;
  groupSignature: string;
  seed: string;
  partialSignaturesOfMember0: string;
}>('dkg.json');

const native = createNativeCrypto();
const portable = createPortableCrypto(() => new Uint8Array(0));

describe('dkg.json transcript', () => {
  const ctx = toCtx(dkg.context);
  const dealings = new Map(dkg.dealings.map((d) => [d.dealer, fromHex(d.hex)]));

  it('allocation', () => {
    const { alloc } = prepareContext(ctx);
    expect({
      counts: alloc.counts,
      total: alloc.total,
      threshold: alloc.threshold,
      maxSubThirdShares: alloc.maxSubThirdShares,
    }).toEqual(dkg.allocation);
  });

  it('qualify reproduces the qualified set and the group key', () => {
    const res = qualify(
      ctx,
      dealings,
      dkg.complaints.map((c) => fromHex(c.hex)),
    );
    expect(res.complaintOutcomes).toEqual(dkg.complaints.map((c) => c.outcome));
    expect(res.qualified).toEqual(dkg.qualified);
    expect(Object.fromEntries([...res.disqualified].map(([k, v]) => [String(k), v]))).toEqual(
      dkg.disqualified,
    );
    expect(toHex(res.groupCommitmentBytes)).toBe(dkg.groupCommitments);
    expect(toHex(res.groupPublicKey)).toBe(dkg.groupPublicKey);
  });

  it('every member opens its shares and reaches the recorded final shares; the signature and seed follow', () => {
    const res = qualify(
      ctx,
      dealings,
      dkg.complaints.map((c) => fromHex(c.hex)),
    );
    const msg = beaconMessage(native, ctx.chainId, ctx.shard, ctx.epoch);
    expect(toHex(msg)).toBe(dkg.beaconMessage);
    const all: Share[] = [];
    dkg.context.members.forEach((m, i) => {
      const opened = new Map<number, readonly Share[]>();
      for (const d of res.qualified) {
        const o = openShares(ctx, dealings.get(d)!, i, fromHex(m.nodeSecret));
        expect(o.ok).toBe(true);
        if (o.ok) opened.set(d, o.shares);
      }
      const shares = memberSecretShares(ctx, res.qualified, i, opened);
      expect(shares.map((s) => ({ index: s.index, value: s.value.toString(16).padStart(64, '0') }))).toEqual(
        dkg.shares[i]!.shares,
      );
      all.push(...shares);
    });
    for (const c of [native, portable] as Crypto[]) {
      const partials = partialSign(c, all, msg);
      const { signature } = combineVerified(c, res.groupCommitments, msg, partials);
      expect(toHex(signature)).toBe(dkg.groupSignature);
      expect(c.bls.verify(signature, msg, c.bls.parsePublicKey(res.groupPublicKey)!)).toBe(true);
      expect(toHex(beaconSeed(c, signature))).toBe(dkg.seed);
    }
    const pm = decodePartialSignatures(ctx, fromHex(dkg.partialSignaturesOfMember0));
    expect(pm.memberIndex).toBe(0);
    expect(pm.partials.map((p) => p.index)).toEqual(dkg.shares[0]!.shares.map((s) => s.index));
  });
});

describe.each([nativePointDecoder, portablePointDecoder])(
  'reject vectors with the $name decoder',
  (decoder) => {
    setPointDecoder(decoder);
    afterAll(() => setPointDecoder(nativePointDecoder));

    const dealingFile = load<{ context: CtxJson; valid: string; reject: Reject[] }>('dealing-reject.json');
    const dctx = toCtx(dealingFile.context);

    it('the valid dealing decodes and verifies', () => {
      setPointDecoder(decoder);
      expect(verifyDealingPublic(dctx, fromHex(dealingFile.valid)).dealerIndex).toBe(0);
    });

    it.each(dealingFile.reject)('dealing: $name → $error', (v) => {
      setPointDecoder(decoder);
      const bytes = fromHex(v.hex);
      if (v.stage === 'decode') {
        const got = errorOf(() => decodeDealing(dctx, bytes));
        expect(got.code).toBe(v.error);
        if (v.field) expect(got.field).toBe(v.field);
      } else {
        expect(() => decodeDealing(dctx, bytes)).not.toThrow();
        expect(errorOf(() => verifyDealingPublic(dctx, bytes)).code).toBe(v.error);
      }
    });

    const complaintFile = load<{
      context: CtxJson;
      valid: { dealer: number; hex: string; justified: boolean }[];
      reject: Reject[];
    }>('complaint-reject.json');
    const cctx = toCtx(complaintFile.context);
    const cheaterDealing = fromHex(dkg.dealings.find((d) => d.dealer === 2)!.hex);

    it('valid complaints verify with their verdict', () => {
      setPointDecoder(decoder);
      for (const c of complaintFile.valid) {
        const dealing = fromHex(dkg.dealings.find((d) => d.dealer === c.dealer)!.hex);
        expect(verifyComplaint(cctx, dealing, fromHex(c.hex))).toBe(c.justified);
      }
    });

    it.each(complaintFile.reject)('complaint: $name → $error', (v) => {
      setPointDecoder(decoder);
      const bytes = fromHex(v.hex);
      if (v.stage === 'decode') {
        const got = errorOf(() => decodeComplaint(bytes));
        expect(got.code).toBe(v.error);
        if (v.field) expect(got.field).toBe(v.field);
      } else {
        expect(() => decodeComplaint(bytes)).not.toThrow();
        expect(errorOf(() => verifyComplaint(cctx, cheaterDealing, bytes)).code).toBe(v.error);
      }
    });
  },
);
