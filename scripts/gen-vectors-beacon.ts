/**
 * Writes test/vectors/beacon/{dkg,dealing-reject,complaint-reject}.json (docs/beacon.md).
 * Run: npx tsx scripts/gen-vectors-beacon.ts
 *
 * dkg.json is a complete 4-member transcript (one cheating dealer with a justified complaint, one false
 * complaint), with the test node secrets so that another implementation can open shares too. Every reject
 * is checked here against the intended error code, with BOTH point decoders, before it is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes, fromHex, toHex } from '../core/bytes.js';
import { CborWriter } from '../core/cbor.js';
import { IosnetError } from '../core/errors.js';
import { MAX_DKG_COMPLAINT_BYTES, MAX_DKG_DEALING_BYTES } from '../core/tx.js';
import { L_ORDER, nodeScalar } from '../gateway/consensus/beacon/edwards.js';
import {
  type BeaconContext,
  beaconMessage,
  beaconSeed,
  combineVerified,
  createComplaint,
  decodeComplaint,
  decodeDealing,
  encodePartialSignatures,
  nativePointDecoder,
  partialSign,
  portablePointDecoder,
  prepareContext,
  setPointDecoder,
  verifyComplaint,
  verifyDealingPublic,
} from '../gateway/consensus/beacon/index.js';
import { createNativeCrypto } from '../gateway/crypto/native.js';
import { committee, maliciousDealing, runDkg } from '../test/unit/gateway/beacon/fixtures.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'beacon');
const hex = toHex;
const crypto = createNativeCrypto();

function write(name: string, value: unknown): void {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, name), `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote test/vectors/beacon/${name}`);
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`generator self-check failed: ${what}`);
}

// ------------------------------------------------------------------------------------------ transcript

const WEIGHTS = [5, 11, 3, 7];
const tc = committee('vectors-4', WEIGHTS);
const { ctx } = tc;
const prep = prepareContext(ctx);
const CHEATER = 2;
const VICTIM = 1;
const VICTIM_SHARE = prep.alloc.starts[VICTIM]! + 1;
const LIAR = 3;
const LIED_ABOUT = 0;

const run = runDkg(tc, {
  rngSeed: 'vectors-4',
  tamper: (d, bytes) =>
    d === CHEATER ? maliciousDealing(ctx, d, new Map([[VICTIM_SHARE, 'wrong-value']])) : bytes,
  extraComplaints: (dealings) => [
    createComplaint(
      ctx,
      decodeDealing(ctx, dealings.get(LIED_ABOUT)!),
      LIAR,
      prep.alloc.starts[LIAR]! + 1,
      nodeScalar(tc.secrets[LIAR]!).x,
    ),
  ],
});
check(run.complaints.length === 2, 'two complaints');
check(run.result.qualified.join() === '0,1', 'qualified = [0, 1]');
const justified = run.complaints[0]!;
const falseComplaint = run.complaints[1]!;
const msg = beaconMessage(crypto, ctx.chainId, ctx.shard, ctx.epoch);
const partials = [...run.shares.values()].flatMap((s) => partialSign(crypto, s, msg));
const { signature } = combineVerified(crypto, run.result.groupCommitments, msg, partials);
const seed = beaconSeed(crypto, signature);

const ctxJson = {
  chainId: ctx.chainId,
  shard: ctx.shard,
  epoch: ctx.epoch,
  members: ctx.members.map((m, i) => ({
    nodePublicKey: hex(m.nodePublicKey),
    nodeSecret: hex(tc.secrets[i]!),
    weight: m.weight,
  })),
  maxTotalShares: 4 * WEIGHTS.length,
};

write('dkg.json', {
  description:
    "A 4-member DKG and beacon (docs/beacon.md). Node secrets are TEST keys (Ed25519 seeds) so that shares can be opened. Dealer 2 encrypted a wrong value for share `victimShare` of member 1, whose complaint is justified; member 3 falsely complained about dealer 0 and is disqualified as a dealer. Both complaints are in `complaints`, in that order. Outputs: allocation, qualified dealers, group commitments (t x 48 bytes), group public key, final shares of every member (32-byte BE scalars), the beacon message, the group signature, the seed, and member 0's PartialSignatures message. Regenerate: npx tsx scripts/gen-vectors-beacon.ts",
  context: ctxJson,
  allocation: {
    counts: prep.alloc.counts,
    total: prep.alloc.total,
    threshold: prep.alloc.threshold,
    maxSubThirdShares: prep.alloc.maxSubThirdShares,
  },
  dealings: [...run.dealings.entries()].map(([dealer, bytes]) => ({ dealer, hex: hex(bytes) })),
  victimShare: VICTIM_SHARE,
  complaints: [
    { hex: hex(justified), outcome: 'justified' },
    { hex: hex(falseComplaint), outcome: 'false' },
  ],
  qualified: run.result.qualified,
  disqualified: Object.fromEntries(run.result.disqualified),
  groupCommitments: hex(run.result.groupCommitmentBytes),
  groupPublicKey: hex(run.result.groupPublicKey),
  shares: [...run.shares.entries()].map(([member, shares]) => ({
    member,
    shares: shares.map((s) => ({ index: s.index, value: s.value.toString(16).padStart(64, '0') })),
  })),
  beaconMessage: hex(msg),
  groupSignature: hex(signature),
  seed: hex(seed),
  partialSignaturesOfMember0: hex(
    encodePartialSignatures(ctx, 0, partialSign(crypto, run.shares.get(0)!, msg)),
  ),
});

// ----------------------------------------------------------------------------------- special points

/** 48-byte compressed G1 encodings that are not valid commitments. */
const Fp = bls12_381.fields.Fp;
function g1OffCurve(): Uint8Array {
  for (let x = 1n; ; x++) {
    const rhs = Fp.add(Fp.pow(x, 3n), 4n);
    try {
      Fp.sqrt(rhs);
    } catch {
      const b = Fp.toBytes(x);
      b[0]! |= 0x80;
      return b;
    }
  }
}
const G1_SPECIAL: Record<string, string> = {
  identity: `c0${'00'.repeat(47)}`,
  'infinity-with-payload': `c0${'00'.repeat(46)}01`,
  'off-curve': hex(g1OffCurve()),
  'not-in-subgroup': `80${'00'.repeat(46)}04`,
  'x-equals-p': (() => {
    const b = Fp.toBytes(0n);
    const p = fromHex(Fp.ORDER.toString(16).padStart(96, '0'));
    b.set(p);
    b[0]! |= 0x80;
    return hex(b);
  })(),
  'compression-flag-cleared': (() => {
    const b = bls12_381.G1.Point.BASE.multiply(7n).toBytes();
    b[0]! &= 0x7f;
    return hex(b);
  })(),
};

const EdP = ed25519.Point;
const SMALL_ORDER = 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a';
function edOffCurve(): Uint8Array {
  for (let y = 2; ; y++) {
    const b = new Uint8Array(32);
    b[0] = y;
    try {
      EdP.fromBytes(b, false);
    } catch {
      return b;
    }
  }
}
const ED_SPECIAL: Record<string, string> = {
  identity: `01${'00'.repeat(31)}`,
  'small-order': SMALL_ORDER,
  'mixed-order': hex(
    EdP.BASE.multiply(12345n)
      .add(EdP.fromBytes(fromHex(SMALL_ORDER)))
      .toBytes(),
  ),
  'non-canonical-y': `ed${'ff'.repeat(30)}7f`,
  'negative-zero': `01${'00'.repeat(30)}80`,
  'off-curve': hex(edOffCurve()),
};

// ----------------------------------------------------------------------------------------- rejects

interface Reject {
  name: string;
  hex: string;
  stage: 'decode' | 'verify';
  error: string;
  field?: string;
}

function codeOf(f: () => unknown): { code: string; field?: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof IosnetError) return { code: e.code, field: e.data.field as string | undefined };
    throw e;
  }
  return { code: 'ACCEPTED' };
}

function checked(
  name: string,
  bytes: Uint8Array,
  stage: Reject['stage'],
  error: string,
  run: (b: Uint8Array) => unknown,
): Reject {
  let field: string | undefined;
  for (const d of [nativePointDecoder, portablePointDecoder]) {
    setPointDecoder(d);
    const got = codeOf(() => run(bytes));
    check(got.code === error, `${name} (${d.name}): expected ${error}, got ${got.code} ${got.field ?? ''}`);
    field = got.field;
  }
  setPointDecoder(nativePointDecoder);
  return { name, hex: hex(bytes), stage, error, ...(field ? { field } : {}) };
}

// ---- dealings

const base = decodeDealing(ctx, run.dealings.get(0)!);
interface DealingFields {
  arrayLength?: number;
  version?: number;
  epoch?: number;
  dealerIndex?: number;
  commitments?: Uint8Array;
  ephemeralPublicKey?: Uint8Array;
  ephemeralProof?: Uint8Array;
  encryptedShares?: Uint8Array[];
  epochBytes?: Uint8Array;
}
function dealingWith(f: DealingFields): Uint8Array {
  const w = new CborWriter(4096);
  const len = f.arrayLength ?? 7;
  w.array(len).uint(f.version ?? 1);
  if (f.epochBytes) w.raw(f.epochBytes);
  else w.uint(f.epoch ?? base.epoch);
  w.uint(f.dealerIndex ?? base.dealerIndex);
  w.bytes(f.commitments ?? base.commitmentBytes);
  w.bytes(f.ephemeralPublicKey ?? base.ephemeralKeyBytes);
  w.bytes(f.ephemeralProof ?? base.ephemeralProof);
  if (len === 7) {
    const shares = f.encryptedShares ?? [...base.encryptedShares];
    w.array(shares.length);
    for (const s of shares) w.bytes(s);
  }
  return w.finish();
}
check(hex(dealingWith({})) === hex(base.bytes), 'dealing re-encodes byte for byte');

const withCommitment = (j: number, point: Uint8Array) => {
  const c = base.commitmentBytes.slice();
  c.set(point, j * 48);
  return dealingWith({ commitments: c });
};
const decodeD = (b: Uint8Array) => decodeDealing(ctx, b);
const verifyD = (b: Uint8Array) => verifyDealingPublic(ctx, b);
const t = prep.alloc.threshold;
const N = prep.alloc.total;
const L_BYTES = (() => {
  const b = new Uint8Array(32);
  let v = L_ORDER;
  for (let i = 0; i < 32; i++) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
})();

const dealingRejects: Reject[] = [
  checked('empty', new Uint8Array(0), 'decode', 'DECODE_TRUNCATED', decodeD),
  checked('truncated', base.bytes.subarray(0, base.bytes.length - 1), 'decode', 'DECODE_TRUNCATED', decodeD),
  checked(
    'trailing-byte',
    concatBytes(base.bytes, new Uint8Array(1)),
    'decode',
    'DECODE_TRAILING_BYTES',
    decodeD,
  ),
  checked(
    'oversize',
    concatBytes(base.bytes, new Uint8Array(MAX_DKG_DEALING_BYTES + 1 - base.bytes.length)),
    'decode',
    'DECODE_OVERSIZE',
    decodeD,
  ),
  checked('array-of-6', dealingWith({ arrayLength: 6 }), 'decode', 'DECODE_INVALID_LENGTH', decodeD),
  checked('version-2', dealingWith({ version: 2 }), 'decode', 'DECODE_UNKNOWN_VERSION', decodeD),
  checked(
    'epoch-not-shortest',
    dealingWith({ epochBytes: new Uint8Array([0x19, 0x00, base.epoch]) }),
    'decode',
    'DECODE_NON_CANONICAL',
    decodeD,
  ),
  checked('dealer-index-n', dealingWith({ dealerIndex: 4 }), 'decode', 'DECODE_INT_RANGE', decodeD),
  checked(
    'one-commitment-short',
    dealingWith({ commitments: base.commitmentBytes.subarray(48) }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeD,
  ),
  checked(
    'one-commitment-extra',
    dealingWith({ commitments: concatBytes(base.commitmentBytes, base.commitmentBytes.subarray(0, 48)) }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeD,
  ),
  ...Object.entries(G1_SPECIAL).flatMap(([name, h]) => [
    checked(`commitment-0-${name}`, withCommitment(0, fromHex(h)), 'decode', 'DECODE_INVALID_VALUE', decodeD),
    checked(
      `commitment-last-${name}`,
      withCommitment(t - 1, fromHex(h)),
      'decode',
      'DECODE_INVALID_VALUE',
      decodeD,
    ),
  ]),
  ...Object.entries(ED_SPECIAL).map(([name, h]) =>
    checked(
      `ephemeral-key-${name}`,
      dealingWith({ ephemeralPublicKey: fromHex(h) }),
      'decode',
      'DECODE_INVALID_VALUE',
      decodeD,
    ),
  ),
  checked(
    'ephemeral-key-31-bytes',
    dealingWith({ ephemeralPublicKey: base.ephemeralKeyBytes.subarray(1) }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeD,
  ),
  checked(
    'proof-c-equals-L',
    dealingWith({ ephemeralProof: concatBytes(L_BYTES, base.ephemeralProof.subarray(32)) }),
    'decode',
    'DECODE_INVALID_VALUE',
    decodeD,
  ),
  checked(
    'proof-s-equals-L',
    dealingWith({ ephemeralProof: concatBytes(base.ephemeralProof.subarray(0, 32), L_BYTES) }),
    'decode',
    'DECODE_INVALID_VALUE',
    decodeD,
  ),
  checked(
    'proof-63-bytes',
    dealingWith({ ephemeralProof: base.ephemeralProof.subarray(1) }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeD,
  ),
  checked(
    'one-share-missing',
    dealingWith({ encryptedShares: base.encryptedShares.slice(1) }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeD,
  ),
  checked(
    'one-share-extra',
    dealingWith({ encryptedShares: [...base.encryptedShares, base.encryptedShares[0]!] }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeD,
  ),
  checked(
    'share-47-bytes',
    dealingWith({
      encryptedShares: [base.encryptedShares[0]!.subarray(1), ...base.encryptedShares.slice(1)],
    }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeD,
  ),
  checked(
    'commitments-as-text',
    (() => {
      const b = dealingWith({});
      const at = b.indexOf(0x59); // bytes(t·48) header 0x59 = bstr with 2-byte length
      const out = b.slice();
      out[at] = 0x79; // text with the same length
      return out;
    })(),
    'decode',
    'DECODE_UNEXPECTED_TYPE',
    decodeD,
  ),
  checked('wrong-epoch', dealingWith({ epoch: base.epoch + 1 }), 'verify', 'VERIFY_INVALID_FIELD', verifyD),
  checked(
    'proof-of-other-dealer',
    dealingWith({ dealerIndex: 1 }),
    'verify',
    'VERIFY_PROOF_INVALID',
    verifyD,
  ),
  checked(
    'ephemeral-key-of-other-dealing',
    (() => {
      const other = decodeDealing(ctx, run.dealings.get(1)!);
      return dealingWith({
        ephemeralPublicKey: other.ephemeralKeyBytes,
        ephemeralProof: other.ephemeralProof,
      });
    })(),
    'verify',
    'VERIFY_PROOF_INVALID',
    verifyD,
  ),
  checked(
    'proof-s-plus-one',
    (() => {
      const p = base.ephemeralProof.slice();
      p[32]! ^= 1;
      return dealingWith({ ephemeralProof: p });
    })(),
    'verify',
    'VERIFY_PROOF_INVALID',
    verifyD,
  ),
];
check(N === base.encryptedShares.length, 'N');

write('dealing-reject.json', {
  description:
    'Dealings every implementation must refuse, for the context of dkg.json. stage "decode": decodeDealing(context, bytes) throws DecodeError `error` (field named in `field`); "verify": it decodes and verifyDealingPublic throws VerifyError `error`. Commitments are checked with the blst-validating and the noble decoders (same verdicts). Regenerate: npx tsx scripts/gen-vectors-beacon.ts',
  context: ctxJson,
  valid: hex(base.bytes),
  reject: dealingRejects,
});

// ---- complaints

const cBase = decodeComplaint(justified);
interface ComplaintFields {
  arrayLength?: number;
  version?: number;
  epoch?: number;
  dealerIndex?: number;
  complainerIndex?: number;
  shareIndex?: number;
  sharedPoint?: Uint8Array;
  proof?: Uint8Array;
}
function complaintWith(f: ComplaintFields): Uint8Array {
  const w = new CborWriter(256);
  w.array(f.arrayLength ?? 7)
    .uint(f.version ?? 1)
    .uint(f.epoch ?? cBase.epoch);
  w.uint(f.dealerIndex ?? cBase.dealerIndex).uint(f.complainerIndex ?? cBase.complainerIndex);
  w.uint(f.shareIndex ?? cBase.shareIndex);
  w.bytes(f.sharedPoint ?? cBase.sharedPointBytes);
  if ((f.arrayLength ?? 7) === 7) w.bytes(f.proof ?? cBase.proof);
  return w.finish();
}
check(hex(complaintWith({})) === hex(justified), 'complaint re-encodes byte for byte');
const cheaterDealing = run.dealings.get(CHEATER)!;
const decodeC = (b: Uint8Array) => decodeComplaint(b);
const verifyC = (b: Uint8Array) => verifyComplaint(ctx, cheaterDealing, b);
check(verifyComplaint(ctx, cheaterDealing, justified), 'justified');
check(!verifyComplaint(ctx, run.dealings.get(LIED_ABOUT)!, falseComplaint), 'false');

const complaintRejects: Reject[] = [
  checked('empty', new Uint8Array(0), 'decode', 'DECODE_TRUNCATED', decodeC),
  checked('truncated', justified.subarray(0, justified.length - 1), 'decode', 'DECODE_TRUNCATED', decodeC),
  checked(
    'trailing-byte',
    concatBytes(justified, new Uint8Array(1)),
    'decode',
    'DECODE_TRAILING_BYTES',
    decodeC,
  ),
  checked(
    'oversize',
    concatBytes(justified, new Uint8Array(MAX_DKG_COMPLAINT_BYTES + 1 - justified.length)),
    'decode',
    'DECODE_OVERSIZE',
    decodeC,
  ),
  checked('array-of-6', complaintWith({ arrayLength: 6 }), 'decode', 'DECODE_INVALID_LENGTH', decodeC),
  checked('version-2', complaintWith({ version: 2 }), 'decode', 'DECODE_UNKNOWN_VERSION', decodeC),
  checked('dealer-index-1024', complaintWith({ dealerIndex: 1024 }), 'decode', 'DECODE_INT_RANGE', decodeC),
  checked(
    'complainer-index-1024',
    complaintWith({ complainerIndex: 1024 }),
    'decode',
    'DECODE_INT_RANGE',
    decodeC,
  ),
  checked('share-index-0', complaintWith({ shareIndex: 0 }), 'decode', 'DECODE_INVALID_VALUE', decodeC),
  checked('share-index-65536', complaintWith({ shareIndex: 65536 }), 'decode', 'DECODE_INT_RANGE', decodeC),
  ...Object.entries(ED_SPECIAL).map(([name, h]) =>
    checked(
      `shared-point-${name}`,
      complaintWith({ sharedPoint: fromHex(h) }),
      'decode',
      'DECODE_INVALID_VALUE',
      decodeC,
    ),
  ),
  checked(
    'shared-point-33-bytes',
    complaintWith({ sharedPoint: concatBytes(cBase.sharedPointBytes, new Uint8Array(1)) }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeC,
  ),
  checked(
    'proof-c-equals-L',
    complaintWith({ proof: concatBytes(L_BYTES, cBase.proof.subarray(32)) }),
    'decode',
    'DECODE_INVALID_VALUE',
    decodeC,
  ),
  checked(
    'proof-s-equals-L',
    complaintWith({ proof: concatBytes(cBase.proof.subarray(0, 32), L_BYTES) }),
    'decode',
    'DECODE_INVALID_VALUE',
    decodeC,
  ),
  checked(
    'proof-65-bytes',
    complaintWith({ proof: concatBytes(cBase.proof, new Uint8Array(1)) }),
    'decode',
    'DECODE_INVALID_LENGTH',
    decodeC,
  ),
  checked(
    'wrong-epoch',
    complaintWith({ epoch: cBase.epoch + 1 }),
    'verify',
    'VERIFY_INVALID_FIELD',
    verifyC,
  ),
  checked('other-dealer', complaintWith({ dealerIndex: 0 }), 'verify', 'VERIFY_INVALID_FIELD', verifyC),
  checked(
    'complainer-not-a-member',
    complaintWith({ complainerIndex: 4 }),
    'verify',
    'VERIFY_INVALID_FIELD',
    verifyC,
  ),
  checked(
    'share-of-another-member',
    complaintWith({ shareIndex: prep.alloc.starts[0]! + 1 }),
    'verify',
    'VERIFY_INVALID_FIELD',
    verifyC,
  ),
  checked(
    'share-index-above-N',
    complaintWith({ shareIndex: N + 1 }),
    'verify',
    'VERIFY_INVALID_FIELD',
    verifyC,
  ),
  checked(
    'other-share-of-complainer',
    complaintWith({ shareIndex: cBase.shareIndex + 1 }),
    'verify',
    'VERIFY_PROOF_INVALID',
    verifyC,
  ),
  checked(
    'complainer-rewritten',
    complaintWith({ complainerIndex: 0, shareIndex: prep.alloc.starts[0]! + 1 }),
    'verify',
    'VERIFY_PROOF_INVALID',
    verifyC,
  ),
  checked(
    'shared-point-replaced',
    complaintWith({ sharedPoint: ed25519.Point.BASE.multiply(99n).toBytes() }),
    'verify',
    'VERIFY_PROOF_INVALID',
    verifyC,
  ),
  checked(
    'proof-bit-flipped',
    (() => {
      const p = cBase.proof.slice();
      p[0]! ^= 1;
      return complaintWith({ proof: p });
    })(),
    'verify',
    'VERIFY_PROOF_INVALID',
    verifyC,
  ),
];
// A complaint made for one dealing does not verify against another (dealing id in the proof).
check(
  codeOf(() => verifyComplaint(ctx, run.dealings.get(0)!, justified)).code === 'VERIFY_INVALID_FIELD',
  'dealer',
);

write('complaint-reject.json', {
  description: `Complaints every implementation must refuse, for the context and dealings of dkg.json. stage "decode": decodeComplaint(bytes) throws DecodeError \`error\`; "verify": it decodes and verifyComplaint(context, dealing of dealer ${CHEATER}, bytes) throws VerifyError \`error\` (an invalid complaint proves nothing: it is neither justified nor false). \`valid\` lists complaints that verify, with their verdict (true = justified). Regenerate: npx tsx scripts/gen-vectors-beacon.ts`,
  context: ctxJson,
  valid: [
    { dealer: CHEATER, hex: hex(justified), justified: true },
    { dealer: LIED_ABOUT, hex: hex(falseComplaint), justified: false },
  ],
  reject: complaintRejects,
});

export type { BeaconContext };
