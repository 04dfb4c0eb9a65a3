/**
 * Beacon test fixtures: committees with deterministic node keys and full in-process DKG runs.
 * Also used by scripts/gen-vectors-beacon.ts and measure.ts.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../../../../core/bytes.js';
import { CborReader, CborWriter } from '../../../../core/cbor.js';
import { shareIndexesOf } from '../../../../gateway/consensus/beacon/allocation.js';
import { prepareContext } from '../../../../gateway/consensus/beacon/context.js';
import { evalPoly, G1, R_ORDER, scalarToBytes } from '../../../../gateway/consensus/beacon/curve.js';
import { pokContext } from '../../../../gateway/consensus/beacon/dealing.js';
import {
  DkgTag,
  EdPoint,
  encryptShare,
  expandScalar,
  L_ORDER,
  provePok,
  shareKey,
} from '../../../../gateway/consensus/beacon/edwards.js';
import {
  type BeaconContext,
  createDealing,
  decodeDealing,
  memberSecretShares,
  type OpenResult,
  openShares,
  type QualifyResult,
  qualify,
  type Share,
} from '../../../../gateway/consensus/beacon/index.js';
import { deterministicRandomBytes } from '../../../helpers/crypto.js';
import { ed25519Key } from '../../../helpers/keys.js';

export interface TestCommittee {
  readonly ctx: BeaconContext;
  readonly secrets: readonly Uint8Array[];
}

export function committee(
  label: string,
  weights: readonly number[],
  opts: { epoch?: number; shard?: number; chainId?: string; maxTotalShares?: number } = {},
): TestCommittee {
  const keys = weights.map((_, i) => ed25519Key(`beacon/${label}/${i}`));
  const ctx: BeaconContext = {
    chainId: opts.chainId ?? 'iosnet-test',
    shard: opts.shard ?? 3,
    epoch: opts.epoch ?? 42,
    members: weights.map((weight, i) => ({ nodePublicKey: keys[i]!.publicKey, weight })),
    ...(opts.maxTotalShares === undefined ? {} : { maxTotalShares: opts.maxTotalShares }),
  };
  return { ctx, secrets: keys.map((k) => k.secretKey) };
}

/**
 * Replaces the ciphertext of share `shareIndex` in a dealing by `replacement` (48 bytes), re-encoding the
 * rest unchanged: a dealer that deals garbage to one member (still publicly valid).
 */
export function replaceEncryptedShare(
  ctx: BeaconContext,
  dealing: Uint8Array,
  shareIndex: number,
  replacement: Uint8Array,
): Uint8Array {
  const d = decodeDealing(ctx, dealing);
  const r = new CborReader(dealing);
  r.array('d', 7);
  r.uint('v');
  r.uint('e');
  r.uint('i');
  r.bytesField('c');
  r.bytesField('E');
  r.bytesField('p');
  const head = dealing.subarray(0, r.pos);
  const w = new CborWriter(dealing.length);
  w.raw(head);
  w.array(d.encryptedShares.length);
  d.encryptedShares.forEach((c, i) => {
    w.bytes(i === shareIndex - 1 ? replacement : c);
  });
  return w.finish();
}

export interface DkgRun {
  readonly dealings: Map<number, Uint8Array>;
  readonly complaints: Uint8Array[];
  readonly openings: Map<number, Map<number, OpenResult>>;
  readonly result: QualifyResult;
  /** Final shares per member (members with 0 shares get []). */
  readonly shares: Map<number, Share[]>;
}

export interface DkgScenario {
  /** Dealers that never deal. */
  readonly missing?: readonly number[];
  /** Replace dealings before they are published. */
  readonly tamper?: (dealer: number, dealing: Uint8Array) => Uint8Array;
  /** Extra complaints published (e.g. false ones). */
  readonly extraComplaints?: (dealings: Map<number, Uint8Array>) => Uint8Array[];
  readonly rngSeed?: string;
}

export function runDkg(tc: TestCommittee, scenario: DkgScenario = {}): DkgRun {
  const { ctx, secrets } = tc;
  const n = ctx.members.length;
  const rng = deterministicRandomBytes(scenario.rngSeed ?? 'beacon-dkg');
  const dealings = new Map<number, Uint8Array>();
  for (let d = 0; d < n; d++) {
    if (scenario.missing?.includes(d)) continue;
    const bytes = createDealing(ctx, d, secrets[d]!, rng);
    dealings.set(d, scenario.tamper ? scenario.tamper(d, bytes) : bytes);
  }
  const complaints: Uint8Array[] = [];
  const openings = new Map<number, Map<number, OpenResult>>();
  for (let i = 0; i < n; i++) {
    const mine = new Map<number, OpenResult>();
    for (const [d, bytes] of dealings) {
      let res: OpenResult;
      try {
        res = openShares(ctx, bytes, i, secrets[i]!);
      } catch {
        continue; // publicly invalid: everyone disqualifies it, nothing to open or complain about
      }
      mine.set(d, res);
      if (!res.ok) complaints.push(res.complaint);
    }
    openings.set(i, mine);
  }
  complaints.push(...(scenario.extraComplaints?.(dealings) ?? []));
  const result = qualify(ctx, dealings, complaints);
  const shares = new Map<number, Share[]>();
  for (let i = 0; i < n; i++) {
    const opened = new Map<number, readonly Share[]>();
    for (const d of result.qualified) {
      const o = openings.get(i)!.get(d)!;
      if (o.ok) opened.set(d, o.shares);
    }
    shares.set(i, memberSecretShares(ctx, result.qualified, i, opened));
  }
  return { dealings, complaints, openings, result, shares };
}

export type Corruption = 'wrong-value' | 'out-of-range' | 'bad-ciphertext';

/**
 * A dealer that follows createDealing's recipe (same encoding, valid commitments and proof) but corrupts the
 * given share indexes: a wrong value properly encrypted, an encrypted 32-byte string ≥ r, or a ciphertext
 * that does not authenticate. Built from the module's own pieces so the dealing stays publicly valid.
 */
export function maliciousDealing(
  ctx: BeaconContext,
  dealerIndex: number,
  corrupt: ReadonlyMap<number, Corruption>,
  seedLabel = 'malicious',
): Uint8Array {
  const prep = prepareContext(ctx);
  const { alloc } = prep;
  const seed = sha256(utf8(`beacon-test/${seedLabel}/${dealerIndex}`));
  const coeffs = Array.from({ length: alloc.threshold }, (_, j) =>
    expandScalar(DkgTag.coefficients, seed, 'poly', j, R_ORDER),
  );
  const e = expandScalar(DkgTag.coefficients, seed, 'ephemeral', 0, L_ORDER);
  const E = EdPoint.BASE.multiply(e).toBytes();
  const proof = provePok(e, E, pokContext(prep, dealerIndex), seed);
  const w = new CborWriter(4096);
  w.array(7).uint(1).uint(ctx.epoch).uint(dealerIndex);
  w.bytes(concatBytes(...coeffs.map((a) => G1.BASE.multiply(a).toBytes())));
  w.bytes(E).bytes(proof);
  w.array(alloc.total);
  ctx.members.forEach((m, i) => {
    const K = prep.nodeKeys[i]!.multiply(e).toBytes();
    const key = shareKey(K, prep.contextBytes, dealerIndex, E, m.nodePublicKey);
    for (const x of shareIndexesOf(alloc, i)) {
      const how = corrupt.get(x);
      let plain = scalarToBytes(evalPoly(coeffs, BigInt(x)));
      if (how === 'wrong-value') plain = scalarToBytes((evalPoly(coeffs, BigInt(x)) + 1n) % R_ORDER);
      if (how === 'out-of-range') plain = scalarToBytes(R_ORDER - 1n).map((b, k) => (k === 31 ? b + 1 : b));
      const c = encryptShare(key, dealerIndex, x, plain);
      if (how === 'bad-ciphertext') c[0]! ^= 1;
      w.bytes(c);
    }
  });
  return w.finish();
}
