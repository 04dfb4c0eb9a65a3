/**
 * Writes test/vectors/ed25519/{rfc8032,edge-cases}.json and test/vectors/bls/{eth-kat,signatures,reject}.json.
 * Run `npx tsx scripts/gen-vectors-crypto.ts` only to add cases: test/unit/core/crypto-backends.test.ts runs
 * every file against both backends, so a backend that drifts fails there, not here.
 *
 * Nothing here trusts one implementation: each published vector (RFC 8032 §7.1, ethereum/bls12-381-tests) is
 * re-derived by noble AND by node:crypto / blst before it is written, and each Ed25519 edge case's expected
 * verdict is checked against `referenceVerify` (our rule, written out with noble's point arithmetic). The raw
 * verdicts of OpenSSL and of noble's own verify are recorded beside it, as the evidence for the rule.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregateSignatures as blstAggregate, PublicKey, SecretKey, Signature } from '@chainsafe/blst';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberBE, bytesToNumberLE, numberToBytesBE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from '../core/bytes.js';
import { BLS_DST } from '../core/crypto-portable.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function write(path: string, value: unknown): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote ${path}`);
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`generator self-check failed: ${what}`);
}

// ---------------------------------------------------------------------------------------------- Ed25519

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const PKCS8 = fromHex('302e020100300506032b657004220420');
const SPKI = fromHex('302a300506032b6570032100');

/** Our rule (see gateway/crypto/native.ts), slowly: strict decoding, A not small, S < L, cofactorless. */
function referenceVerify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  if (sig.length !== 64 || pk.length !== 32) return false;
  let A: InstanceType<typeof Point>;
  let R: InstanceType<typeof Point>;
  try {
    A = Point.fromBytes(pk, false);
    R = Point.fromBytes(sig.subarray(0, 32), false);
  } catch {
    return false;
  }
  if (A.isSmallOrder()) return false;
  const s = bytesToNumberLE(sig.subarray(32));
  if (s >= L) return false;
  const k = Point.Fn.create(bytesToNumberLE(sha512(concatBytes(sig.subarray(0, 32), pk, msg))));
  return Point.BASE.multiplyUnsafe(s).equals(R.add(A.multiplyUnsafe(k)));
}

function opensslVerify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(concatBytes(SPKI, pk)), format: 'der', type: 'spki' });
    return nodeVerify(null, msg, key, sig);
  } catch {
    return false;
  }
}

function nobleVerify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array, zip215: boolean): boolean {
  try {
    return ed25519.verify(sig, msg, pk, { zip215 });
  } catch {
    return false;
  }
}

function opensslSign(msg: Uint8Array, seed: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.from(concatBytes(PKCS8, seed)), format: 'der', type: 'pkcs8' });
  return new Uint8Array(nodeSign(null, msg, key));
}

// RFC 8032 §7.1 (TEST 1, 2, 3, 1024, SHA(abc)); TEST 1024's message is 1023 bytes.
const TEST_1024_MESSAGE = [
  '08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1',
  'e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d',
  '658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a',
  '7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e',
  '06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10',
  '3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1',
  '85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d',
  '502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270',
  '88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b',
  'eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba',
  'b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b',
  'e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7',
  '51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d',
  'cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df',
  'f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7',
  '984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4',
  '88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09',
  '43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f',
  'b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161',
  '0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d',
  'b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca',
  'c60c905c15fc910840b94c00a0b9d0',
].join('');

const RFC8032 = [
  {
    name: 'TEST 1',
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secretKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST 1024',
    secretKey: 'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
    publicKey: '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
    message: TEST_1024_MESSAGE,
    signature:
      '0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03',
  },
  {
    name: 'TEST SHA(abc)',
    secretKey: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    publicKey: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    message: toHex(sha512(utf8('abc'))),
    signature:
      'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

function genRfc8032(): void {
  check(TEST_1024_MESSAGE.length === 2046, 'TEST 1024 message is 1023 bytes');
  for (const v of RFC8032) {
    const sk = fromHex(v.secretKey);
    const msg = fromHex(v.message);
    check(toHex(ed25519.getPublicKey(sk)) === v.publicKey, `${v.name}: noble public key`);
    check(toHex(ed25519.sign(msg, sk)) === v.signature, `${v.name}: noble signature`);
    check(toHex(opensslSign(msg, sk)) === v.signature, `${v.name}: OpenSSL signature`);
    check(referenceVerify(fromHex(v.signature), msg, fromHex(v.publicKey)), `${v.name}: reference verify`);
  }
  write('test/vectors/ed25519/rfc8032.json', {
    description:
      'RFC 8032 §7.1 Ed25519 test vectors (hex). Both backends must derive publicKey from secretKey (the 32-byte seed), sign message to exactly signature, and verify it.',
    vectors: RFC8032,
  });
}

type Verdict = 'accept' | 'reject';
interface EdgeCase {
  name: string;
  expected: Verdict;
  reason: string;
  message: string;
  publicKey: string;
  signature: string;
}

// "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko 2020), novifinancial/ed25519-speccheck cases.json.
const SPECCHECK: Omit<EdgeCase, 'name'>[] = [
  {
    expected: 'reject',
    reason: 'S = 0, small-order A, small-order R: rule 4 (small-order A)',
    message: '8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6',
    publicKey: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    signature:
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000',
  },
  {
    expected: 'reject',
    reason: '0 < S < L, small-order A, mixed-order R: rule 4 (small-order A)',
    message: '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    publicKey: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    signature:
      'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
  },
  {
    expected: 'accept',
    reason: '0 < S < L, mixed-order A, small-order R, cofactorless equation holds: small-order R is allowed',
    message: 'aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab',
    publicKey: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    signature:
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e',
  },
  {
    expected: 'accept',
    reason: '0 < S < L, mixed-order A, mixed-order R, cofactorless equation holds',
    message: '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    publicKey: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    signature:
      '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009',
  },
  {
    expected: 'reject',
    reason: '0 < S < L, mixed-order A, mixed-order R, only the cofactored equation holds: rule 5',
    message: 'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    publicKey: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    signature:
      '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09',
  },
  {
    expected: 'reject',
    reason:
      '0 < S < L, mixed-order A, L-order R, only the cofactored equation holds (8k not pre-reduced): rule 5',
    message: 'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    publicKey: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    signature:
      '21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405',
  },
  {
    expected: 'reject',
    reason: 'S > L (a valid S + L): rule 2',
    message: '85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40',
    publicKey: '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623',
    signature:
      'e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514',
  },
  {
    expected: 'reject',
    reason: 'S >> L: rule 2',
    message: '85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40',
    publicKey: '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623',
    signature:
      '8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22',
  },
  {
    expected: 'reject',
    reason: 'non-canonical R (x = 0 with the sign bit set), valid if R is re-encoded for the hash: rule 3',
    message: '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    publicKey: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    signature:
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f',
  },
  {
    expected: 'reject',
    reason: 'non-canonical R (x = 0 with the sign bit set), valid if the raw R bytes are hashed: rule 3',
    message: '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    publicKey: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    signature:
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908',
  },
  {
    expected: 'reject',
    reason:
      'non-canonical small-order A (x = 0 with the sign bit set), valid if A is re-encoded: rules 3 and 4',
    message: 'e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b',
    publicKey: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    signature:
      'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
  },
  {
    expected: 'reject',
    reason:
      'non-canonical small-order A (x = 0 with the sign bit set), valid if raw A is hashed: rules 3 and 4',
    message: '39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f',
    publicKey: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    signature:
      'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
  },
];

/** Extra cases: an honest key's edge signatures, identity keys in every encoding, off-curve points, lengths. */
function extraEdgeCases(): EdgeCase[] {
  const seed = fromHex(RFC8032[0]!.secretKey);
  const { scalar, pointBytes: A } = ed25519.utils.getExtendedPublicKey(seed);
  const msg = utf8('iosnet edge case');
  const valid = ed25519.sign(msg, seed);
  const S = bytesToNumberLE(valid.subarray(32));
  const withS = (s: bigint) => concatBytes(valid.subarray(0, 32), numberToBytesLE(s, 32));
  /** S = k·a for a chosen R encoding: [S]B = [k]A, so it holds exactly when R decodes to the identity. */
  const identityR = (r: Uint8Array) => {
    const k = Point.Fn.create(bytesToNumberLE(sha512(concatBytes(r, A, msg))));
    return concatBytes(r, numberToBytesLE(Point.Fn.mul(k, scalar), 32));
  };
  const id = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
  const idSigned = fromHex('0100000000000000000000000000000000000000000000000000000000000080');
  const idYp1 = fromHex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
  const yIsP = fromHex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
  const offCurve = fromHex('0200000000000000000000000000000000000000000000000000000000000000');
  const identitySig = concatBytes(id, new Uint8Array(32));
  const hex = (
    name: string,
    expected: Verdict,
    reason: string,
    m: Uint8Array,
    pk: Uint8Array,
    sig: Uint8Array,
  ) => ({
    name,
    expected,
    reason,
    message: toHex(m),
    publicKey: toHex(pk),
    signature: toHex(sig),
  });
  check(
    !(() => {
      try {
        Point.fromBytes(offCurve);
        return true;
      } catch {
        return false;
      }
    })(),
    'y = 2 is off the curve',
  );
  return [
    hex('honest', 'accept', 'an ordinary signature (RFC 8032 TEST 1 key)', msg, A, valid),
    hex('s-plus-l', 'reject', 'S + L of a valid signature: rule 2', msg, A, withS(S + L)),
    hex('s-equals-l', 'reject', 'S = L: rule 2', msg, A, withS(L)),
    hex('s-high-bit', 'reject', 'S with bit 255 set: rule 2', msg, A, withS(S + (1n << 255n))),
    hex(
      'identity-r',
      'accept',
      'R = identity (small order), S = k·a: the cofactorless equation holds',
      msg,
      A,
      identityR(id),
    ),
    hex(
      'identity-r-y-plus-p',
      'reject',
      'R = identity encoded with y = p + 1, S = k·a over those bytes: rule 3',
      msg,
      A,
      identityR(idYp1),
    ),
    hex(
      'identity-r-negative-zero',
      'reject',
      'R = identity with the sign bit set (x = 0), S over those bytes: rule 3',
      msg,
      A,
      identityR(idSigned),
    ),
    hex('identity-a', 'reject', 'A = identity, R = identity, S = 0: rule 4', msg, id, identitySig),
    hex(
      'identity-a-y-plus-p',
      'reject',
      'A = identity encoded with y = p + 1: rules 3 and 4',
      msg,
      idYp1,
      identitySig,
    ),
    hex(
      'identity-a-negative-zero',
      'reject',
      'A = identity with the sign bit set: rules 3 and 4',
      msg,
      idSigned,
      identitySig,
    ),
    hex(
      'a-y-equals-p',
      'reject',
      'A encodes y = p (order-4 point, non-canonical): rules 3 and 4',
      msg,
      yIsP,
      identitySig,
    ),
    hex('a-off-curve', 'reject', 'A (y = 2) is not on the curve', msg, offCurve, valid),
    hex(
      'r-off-curve',
      'reject',
      'R (y = 2) is not on the curve',
      msg,
      A,
      concatBytes(offCurve, valid.subarray(32)),
    ),
    hex('wrong-message', 'reject', 'valid signature, other message', utf8('iosnet edge casE'), A, valid),
    hex('signature-63-bytes', 'reject', 'rule 1', msg, A, valid.subarray(0, 63)),
    hex('signature-65-bytes', 'reject', 'rule 1', msg, A, concatBytes(valid, new Uint8Array(1))),
    hex('public-key-31-bytes', 'reject', 'rule 1', msg, A.subarray(0, 31), valid),
    hex('public-key-33-bytes', 'reject', 'rule 1', msg, concatBytes(A, new Uint8Array(1)), valid),
    hex('empty', 'reject', 'rule 1', msg, new Uint8Array(0), new Uint8Array(0)),
  ];
}

function genEdgeCases(): void {
  const cases: (EdgeCase & { libraries: Record<string, boolean> })[] = [];
  const all = [...SPECCHECK.map((c, i) => ({ name: `speccheck-${i}`, ...c })), ...extraEdgeCases()];
  for (const c of all) {
    const [m, pk, sig] = [fromHex(c.message), fromHex(c.publicKey), fromHex(c.signature)];
    check(referenceVerify(sig, m, pk) === (c.expected === 'accept'), `${c.name}: reference verdict`);
    cases.push({
      ...c,
      libraries: {
        openssl: opensslVerify(sig, m, pk),
        nobleZip215False: nobleVerify(sig, m, pk, false),
        nobleZip215True: nobleVerify(sig, m, pk, true),
      },
    });
  }
  write('test/vectors/ed25519/edge-cases.json', {
    description:
      "Ed25519 verification edge cases (hex). `expected` is iosnet's rule (gateway/crypto/native.ts header: strict RFC 8032 decoding, S < L, small-order A rejected, cofactorless equation); both backends must give it. speccheck-N are the 12 cases of 'Taming the many EdDSAs' (novifinancial/ed25519-speccheck). `libraries` records the raw verdicts of OpenSSL (node:crypto verify) and noble's ed25519.verify when this file was generated: the evidence for the pre-checks, re-checked by the tests.",
    cases,
  });
}

// -------------------------------------------------------------------------------------------------- BLS

const r = bls12_381.fields.Fr.ORDER;
const bls = bls12_381.longSignatures;

function nobleBlsSign(msg: Uint8Array, sk: Uint8Array): Uint8Array {
  return bls.sign(bls.hash(msg, BLS_DST), sk).toBytes();
}

function blstSign(msg: Uint8Array, sk: Uint8Array): Uint8Array {
  return SecretKey.fromBytes(sk).sign(msg).toBytes();
}

// ethereum/bls12-381-tests (the consensus-spec BLS vectors: min-pk, POP ciphersuite): sign and aggregate.
const ETH_SECRET_KEYS = [
  '263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3',
  '47b8192d77bf871b62e87859d653922725724a5c031afeabc60bcef5ff665138',
  '328388aff0d4a5b7dc9205abd374e7e98f3cd9f3418edb4eafda5fb16473d216',
];
const ETH_PUBLIC_KEYS = [
  'a491d1b0ecd9bb917989f0e74f0dea0422eac4a873e5e2644f368dffb9a6e20fd6e10c1b77654d067c0618f6e5a7f79a',
  'b301803f8b5ac4a1133581fc676dfedc60d891dd5fa99028805e5ea5b08d3491af75d0707adab3b70c6a6a580217bf81',
  'b53d21a4cfd562c469cc81514d4ce5a6b577d8403d32a394dc265dd190b47fa9f829fdd7963afdf972e5e77854051f6f',
];
const ETH_MESSAGES = ['00'.repeat(32), '56'.repeat(32), 'ab'.repeat(32)];
const ETH_SIGNATURES = [
  [
    'b6ed936746e01f8ecf281f020953fbf1f01debd5657c4a383940b020b26507f6076334f91e2366c96e9ab279fb5158090352ea1c5b0c9274504f4f0e7053af24802e51e4568d164fe986834f41e55c8e850ce1f98458c0cfc9ab380b55285a55',
    '882730e5d03f6b42c3abc26d3372625034e1d871b65a8a6b900a56dae22da98abbe1b68f85e49fe7652a55ec3d0591c20767677e33e5cbb1207315c41a9ac03be39c2e7668edc043d6cb1d9fd93033caa8a1c5b0e84bedaeb6c64972503a43eb',
    '91347bccf740d859038fcdcaf233eeceb2a436bcaaee9b2aa3bfb70efe29dfb2677562ccbea1c8e061fb9971b0753c240622fab78489ce96768259fc01360346da5b9f579e5da0d941e4c6ba18a0e64906082375394f337fa1af2b7127b0d121',
  ],
  [
    'b23c46be3a001c63ca711f87a005c200cc550b9429d5f4eb38d74322144f1b63926da3388979e5321012fb1a0526bcd100b5ef5fe72628ce4cd5e904aeaa3279527843fae5ca9ca675f4f51ed8f83bbf7155da9ecc9663100a885d5dc6df96d9',
    'af1390c3c47acdb37131a51216da683c509fce0e954328a59f93aebda7e4ff974ba208d9a4a2a2389f892a9d418d618418dd7f7a6bc7aa0da999a9d3a5b815bc085e14fd001f6a1948768a3f4afefc8b8240dda329f984cb345c6363272ba4fe',
    '9674e2228034527f4c083206032b020310face156d4a4685e2fcaec2f6f3665aa635d90347b6ce124eb879266b1e801d185de36a0a289b85e9039662634f2eea1e02e670bc7ab849d006a70b2f93b84597558a05b879c8d445f387a5d5b653df',
  ],
  [
    '948a7cb99f76d616c2c564ce9bf4a519f1bea6b0a624a02276443c245854219fabb8d4ce061d255af5330b078d5380681751aa7053da2c98bae898edc218c75f07e24d8802a17cd1f6833b71e58f5eb5b94208b4d0bb3848cecb075ea21be115',
    'a4efa926610b8bd1c8330c918b7a5e9bf374e53435ef8b7ec186abf62e1b1f65aeaaeb365677ac1d1172a1f5b44b4e6d022c252c58486c0a759fbdc7de15a756acc4d343064035667a594b4c2a6f0b0b421975977f297dba63ee2f63ffe47bb6',
    'ae82747ddeefe4fd64cf9cedb9b04ae3e8a43420cd255e3c7cd06a8d88b7c7f8638543719981c5d16fa3527c468c25f0026704a6951bde891360c7e8d12ddee0559004ccdbe6046b55bae1b257ee97f7cdb955773d7cf29adf3ccbb9975e4eb9',
  ],
];
const ETH_AGGREGATES = [
  '9683b3e6701f9a4b706709577963110043af78a5b41991b998475a3d3fd62abf35ce03b33908418efc95a058494a8ae504354b9f626231f6b3f3c849dfdeaf5017c4780e2aee1850ceaf4b4d9ce70971a3d2cfcd97b7e5ecf6759f8da5f76d31',
  'ad38fc73846583b08d110d16ab1d026c6ea77ac2071e8ae832f56ac0cbcdeb9f5678ba5ce42bd8dce334cc47b5abcba40a58f7f1f80ab304193eb98836cc14d8183ec14cc77de0f80c4ffd49e168927a968b5cdaa4cf46b9805be84ad7efa77b',
  '9712c3edd73a209c742b8250759db12549b3eaf43b5ca61376d9f30e2747dbcf842d8b2ac0901d2a093713e20284a7670fcf6954e9ab93de991bb9b313e664785a075fc285806fa5224c82bde146561b446ccfc706a64b8579513cfc4ff1d930',
];

function blstAggregateHex(sigs: string[]): string {
  return toHex(blstAggregate(sigs.map((s) => Signature.fromBytes(fromHex(s), true))).toBytes());
}

function genEthKat(): void {
  ETH_SECRET_KEYS.forEach((skHex, k) => {
    const sk = fromHex(skHex);
    check(toHex(bls.getPublicKey(sk).toBytes()) === ETH_PUBLIC_KEYS[k], `eth key ${k}: noble`);
    check(
      toHex(SecretKey.fromBytes(sk).toPublicKey().toBytes()) === ETH_PUBLIC_KEYS[k],
      `eth key ${k}: blst`,
    );
    ETH_MESSAGES.forEach((m, i) => {
      check(toHex(nobleBlsSign(fromHex(m), sk)) === ETH_SIGNATURES[k]![i], `eth sig ${k}/${i}: noble`);
      check(toHex(blstSign(fromHex(m), sk)) === ETH_SIGNATURES[k]![i], `eth sig ${k}/${i}: blst`);
    });
  });
  ETH_MESSAGES.forEach((_, i) => {
    check(blstAggregateHex(ETH_SIGNATURES.map((row) => row[i]!)) === ETH_AGGREGATES[i], `eth aggregate ${i}`);
  });
  write('test/vectors/bls/eth-kat.json', {
    description:
      'Known answers from ethereum/bls12-381-tests (min-pk, DST BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_): secretKeys[k] -> publicKeys[k]; Sign(secretKeys[k], messages[m]) = signatures[k][m]; Aggregate of the three keys signatures over messages[m] = aggregates[m] (FastAggregateVerify true).',
    secretKeys: ETH_SECRET_KEYS,
    publicKeys: ETH_PUBLIC_KEYS,
    messages: ETH_MESSAGES,
    signatures: ETH_SIGNATURES,
    aggregates: ETH_AGGREGATES,
  });
}

/** Deterministic test secret keys in [1, r): (sha256(label) mod (r - 1)) + 1. */
function testSecretKey(i: number): Uint8Array {
  return numberToBytesBE(
    (bytesToNumberBE(sha256(utf8(`iosnet/test-vectors/bls/sk/${i}`))) % (r - 1n)) + 1n,
    32,
  );
}

function genSignatures(): { sks: Uint8Array[]; pks: Uint8Array[]; msgs: Uint8Array[] } {
  const sks = [0, 1, 2, 3].map(testSecretKey);
  const pks = sks.map((sk) => {
    const pk = SecretKey.fromBytes(sk).toPublicKey().toBytes();
    check(equalBytes(pk, bls.getPublicKey(sk).toBytes()), 'test key: noble = blst');
    return pk;
  });
  const msgs = [new Uint8Array(0), utf8('iosnet'), new Uint8Array(32).fill(0xab)];
  const signatures: { key: number; message: string; signature: string }[] = [];
  for (let k = 0; k < sks.length; k++) {
    for (let m = 0; m < msgs.length; m++) {
      const sig = blstSign(msgs[m]!, sks[k]!);
      check(equalBytes(sig, nobleBlsSign(msgs[m]!, sks[k]!)), 'test signature: noble = blst');
      signatures.push({ key: k, message: toHex(msgs[m]!), signature: toHex(sig) });
    }
  }
  const sigOf = (k: number, m: number) => signatures[k * msgs.length + m]!.signature;
  const aggregates = [
    { message: 1, signers: [0, 1, 2, 3] },
    { message: 2, signers: [0, 2] },
    { message: 0, signers: [3] },
    {
      message: 1,
      signers: [1, 1],
      note: 'the same signer twice: FastAggregateVerify with a repeated key holds',
    },
  ].map(({ message, signers, note }) => ({
    message: toHex(msgs[message]!),
    signers,
    signatures: signers.map((k) => sigOf(k, message)),
    aggregate: blstAggregateHex(signers.map((k) => sigOf(k, message))),
    ...(note ? { note } : {}),
  }));
  write('test/vectors/bls/signatures.json', {
    description:
      'BLS min-pk POP vectors generated with @chainsafe/blst and checked byte for byte against noble when written. keys[i].secretKey = (sha256("iosnet/test-vectors/bls/sk/" + i) mod (r-1)) + 1. Every signature verifies under its key and message; aggregateSignatures(signatures) = aggregate, and verifyAggregate(aggregate, message, signers keys) is true.',
    keys: sks.map((sk, i) => ({ secretKey: toHex(sk), publicKey: toHex(pks[i]!) })),
    signatures,
    aggregates,
  });
  return { sks, pks, msgs };
}

/** A compressed encoding (flag 0x80) of a curve point outside the r-order subgroup: smallest such x. */
function nonSubgroupPoint(group: 'G1' | 'G2'): Uint8Array {
  for (let x = 1n; ; x++) {
    const bytes = new Uint8Array(group === 'G1' ? 48 : 96);
    bytes.set(numberToBytesBE(x, 48), bytes.length - 48); // G2: x = c1 || c0, here c1 = 0, c0 = x
    bytes[0]! |= 0x80;
    try {
      if (group === 'G1') bls12_381.G1.Point.fromBytes(bytes).assertValidity();
      else bls12_381.G2.Point.fromBytes(bytes).assertValidity();
    } catch (e) {
      if (/subgroup/.test((e as Error).message)) return bytes;
    }
  }
}

function genReject(sks: Uint8Array[], pks: Uint8Array[], msgs: Uint8Array[]): void {
  const msg = msgs[1]!;
  const sig = blstSign(msg, sks[0]!);
  const flip = (b: Uint8Array, byte: number, mask: number) => {
    const c = b.slice();
    c[byte]! ^= mask;
    return c;
  };
  const infinityG1 = flip(new Uint8Array(48), 0, 0xc0);
  const infinityG2 = flip(new Uint8Array(96), 0, 0xc0);
  const p = bls12_381.fields.Fp.ORDER;
  const xEqualsP = numberToBytesBE(p, 48);
  xEqualsP[0]! |= 0x80;
  const negPk = bls12_381.G1.Point.fromBytes(pks[0]!).negate().toBytes();
  const g1Bad = nonSubgroupPoint('G1');
  const g2Bad = nonSubgroupPoint('G2');
  const uncompressedPk = SecretKey.fromBytes(sks[0]!).toPublicKey().toBytes(false);
  const uncompressedSig = Signature.fromBytes(sig).toBytes(false);
  check(PublicKey.fromBytes(uncompressedPk, true) !== undefined, 'blst takes 96-byte keys (we must not)');

  const parsePublicKey = [
    ['infinity', infinityG1, 'the identity is not a key'],
    ['infinity-nonzero-payload', flip(infinityG1, 47, 1), 'infinity flag with payload bits set'],
    ['infinity-sort-flag', flip(infinityG1, 0, 0x20), 'infinity with the sort flag (0xe0)'],
    ['not-in-subgroup', g1Bad, 'on the curve, outside the r-order subgroup'],
    ['uncompressed-flag', flip(pks[0]!, 0, 0x80), 'compression flag cleared on a 48-byte key'],
    ['x-equals-p', xEqualsP, 'x coordinate not reduced mod p'],
    ['uncompressed-96-bytes', uncompressedPk, 'a valid key in uncompressed form: only 48-byte keys'],
    ['47-bytes', pks[0]!.subarray(0, 47), 'wrong length'],
    ['49-bytes', concatBytes(pks[0]!, new Uint8Array(1)), 'wrong length'],
    ['empty', new Uint8Array(0), 'wrong length'],
  ].map(([name, bytes, reason]) => ({ name, publicKey: toHex(bytes as Uint8Array), reason }));

  const verify = [
    ['bit-flipped-low', flip(sig, 95, 1), msg, 0, 'signature with its lowest bit flipped'],
    ['bit-flipped-middle', flip(sig, 50, 0x10), msg, 0, 'signature with a middle bit flipped'],
    ['negated', flip(sig, 0, 0x20), msg, 0, 'sort flag flipped: -sig, a valid point'],
    ['wrong-message', sig, msgs[2]!, 0, 'valid signature, other message'],
    ['wrong-key', sig, msg, 1, 'valid signature, other key'],
    ['infinity-signature', infinityG2, msg, 0, 'the identity signature'],
    ['not-in-subgroup', g2Bad, msg, 0, 'signature on the curve, outside the subgroup'],
    ['uncompressed-flag', flip(sig, 0, 0x80), msg, 0, 'compression flag cleared'],
    ['uncompressed-192-bytes', uncompressedSig, msg, 0, 'a valid signature in uncompressed form'],
    ['95-bytes', sig.subarray(0, 95), msg, 0, 'wrong length'],
    ['97-bytes', concatBytes(sig, new Uint8Array(1)), msg, 0, 'wrong length'],
  ].map(([name, s, m, key, reason]) => ({
    name,
    signature: toHex(s as Uint8Array),
    message: toHex(m as Uint8Array),
    publicKey: toHex(pks[key as number]!),
    reason,
  }));

  const agg01 = blstAggregateHex([toHex(sig), toHex(blstSign(msg, sks[1]!))]);
  const verifyAggregate = [
    { name: 'no-signers', signature: agg01, publicKeys: [], reason: 'an empty signer list' },
    {
      name: 'missing-signer',
      signature: agg01,
      publicKeys: [pks[0]!],
      reason: 'one of two signers left out',
    },
    {
      name: 'extra-signer',
      signature: agg01,
      publicKeys: [pks[0]!, pks[1]!, pks[2]!],
      reason: 'a key that did not sign',
    },
    {
      name: 'infinity-signature',
      signature: toHex(infinityG2),
      publicKeys: [pks[0]!],
      reason: 'identity signature',
    },
    {
      name: 'keys-sum-to-identity',
      signature: toHex(infinityG2),
      publicKeys: [pks[0]!, negPk],
      reason: 'pk and -pk aggregate to the identity (a rogue-key set) with the identity signature',
    },
    {
      name: 'not-in-subgroup',
      signature: toHex(g2Bad),
      publicKeys: [pks[0]!],
      reason: 'signature outside the subgroup',
    },
  ].map((c) => ({ ...c, message: toHex(msg), publicKeys: c.publicKeys.map(toHex) }));

  const aggregateSignatures = [
    { name: 'none', signatures: [], reason: 'nothing to aggregate' },
    {
      name: 'not-in-subgroup',
      signatures: [toHex(sig), toHex(g2Bad)],
      reason: 'one signature outside the subgroup',
    },
    {
      name: 'bad-length',
      signatures: [toHex(sig), toHex(sig.subarray(0, 95))],
      reason: 'one signature of 95 bytes',
    },
    { name: 'uncompressed', signatures: [toHex(uncompressedSig)], reason: 'a 192-byte signature' },
  ];

  const be = (n: bigint) => toHex(numberToBytesBE(n, 32));
  const invalidSecretKeys = [
    { name: 'zero', secretKey: be(0n) },
    { name: 'r', secretKey: be(r) },
    { name: 'r-plus-1', secretKey: be(r + 1n), note: 'noble alone reduces it to 1' },
    { name: 'all-ones', secretKey: 'ff'.repeat(32), note: 'noble alone reduces it mod r' },
    { name: '31-bytes', secretKey: '01'.repeat(31) },
    { name: '33-bytes', secretKey: '01'.repeat(33) },
  ];

  write('test/vectors/bls/reject.json', {
    description:
      'BLS inputs both backends must refuse: parsePublicKey -> undefined; verify (against the parsed publicKey) -> false; verifyAggregate -> false; aggregateSignatures -> undefined; getPublicKey/sign of invalidSecretKeys throw ArgumentError (ARGUMENT_INVALID). The identity signature is a valid subgroup element: aggregateSignatures accepts it (acceptedIdentity), and it never verifies.',
    parsePublicKey,
    verify,
    verifyAggregate,
    aggregateSignatures,
    acceptedIdentity: {
      signatures: [toHex(sig), toHex(infinityG2)],
      aggregate: toHex(sig),
      reason: 'sig + identity = sig',
    },
    invalidSecretKeys,
  });
}

genRfc8032();
genEdgeCases();
genEthKat();
const { sks, pks, msgs } = genSignatures();
genReject(sks, pks, msgs);
