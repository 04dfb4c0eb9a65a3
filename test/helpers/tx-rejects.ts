/** Must-reject transactions for test/vectors/objects/tx.json (see scripts/gen-vectors-objects.ts). */
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes } from '../../core/bytes.js';
import { encodeTx, type Transaction, type TxKindName } from '../../core/tx.js';
import { makeCrossShardTx } from './atomix.js';
import {
  cborHex,
  cborxDefault,
  cborxDeterministic,
  filled,
  flipBit,
  hex,
  patch,
  type RejectSpec,
  viaCborx,
  zeros,
} from './byte-surgery.js';
import { ed25519Key } from './keys.js';
import { makeTx, type TxOverrides } from './tx.js';

function txWith(
  base: Transaction,
  body: Partial<Transaction['body']>,
  signatures = base.signatures,
): Uint8Array {
  return encodeTx({ body: { ...base.body, ...body }, signatures });
}

function tx<K extends TxKindName>(kind: K, o?: TxOverrides<K>): Transaction {
  return makeTx(kind, o).tx;
}

/** S + L: the same Ed25519 signature with a non-reduced scalar (accepted by lax verifiers). */
function malleate(sig: Uint8Array): Uint8Array {
  const L = ed25519.Point.CURVE().n;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
  s += L;
  const out = sig.slice();
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

export function txRejects(): RejectSpec[] {
  const t = makeTx('transfer');
  const b = t.tx.body;
  const sig = t.tx.signatures[0]!;
  const chain = cborHex(b.chainId);
  const dev = makeTx('registerDevice');
  const owner = ed25519Key('alice');
  const other = makeTx('transfer', { chainId: 'iosnet-other' }).tx;
  const crossTx = makeCrossShardTx();
  const commit = makeTx('atomixCommit');
  const abort = makeTx('atomixAbort');
  const part = (n: number) => ({ address: ed25519Key('alice').address, amount: BigInt(n) });
  const lock = (c: Partial<typeof crossTx>, inputIndex = 0) =>
    encodeTx(tx('atomixLock', { payload: { crossTx: { ...crossTx, ...c }, inputIndex } }));
  return [
    {
      name: 'transfer.to of 31 bytes',
      bytes: encodeTx(tx('transfer', { payload: { to: zeros(31) } })),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'transfer.to of 33 bytes',
      bytes: encodeTx(tx('transfer', { payload: { to: zeros(33) } })),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'sender of 31 bytes',
      bytes: txWith(t.tx, { sender: zeros(31) }),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'signature of 63 bytes',
      bytes: txWith(t.tx, {}, [sig.subarray(0, 63)]),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'signature of 65 bytes',
      bytes: txWith(t.tx, {}, [concatBytes(sig, zeros(1))]),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'unknown kind 16',
      bytes: patch(t.bytes, `${chain}015820`, `${chain}105820`),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'kind 0',
      bytes: patch(t.bytes, `${chain}015820`, `${chain}005820`),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'kind 256',
      bytes: patch(t.bytes, `${chain}015820`, `${chain}1901005820`),
      error: 'DECODE_INT_RANGE',
    },
    {
      name: 'transfer with two signatures',
      bytes: txWith(t.tx, {}, [sig, sig]),
      error: 'DECODE_INVALID_VALUE',
    },
    { name: 'no signatures', bytes: txWith(t.tx, {}, []), error: 'DECODE_INVALID_LENGTH' },
    { name: 'three signatures', bytes: txWith(t.tx, {}, [sig, sig, sig]), error: 'DECODE_OVERSIZE' },
    {
      name: 'registerDevice without the device signature',
      bytes: txWith(dev.tx, {}, [dev.tx.signatures[0]!]),
      error: 'DECODE_INVALID_VALUE',
      note: 'register-device must carry two signatures: the owner (sender) and the device key.',
    },
    {
      name: 'registerDevice co-signed by the owner instead of the device',
      bytes: encodeTx(tx('registerDevice', { signWith: [owner, owner] })),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'registerDevice with the two signatures swapped',
      bytes: txWith(dev.tx, {}, [dev.tx.signatures[1]!, dev.tx.signatures[0]!]),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'bad signature: one bit flipped',
      bytes: txWith(t.tx, {}, [flipBit(sig, 40)]),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'malleated signature (S + L)',
      bytes: txWith(t.tx, {}, [malleate(sig)]),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
      note: 'Strict RFC 8032 verification requires S < L; a lax verifier (or zip215) would accept it.',
    },
    {
      name: 'signature made for chain "iosnet-other" on an iosnet-test body',
      bytes: txWith(t.tx, {}, other.signatures),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'review rating 0',
      bytes: encodeTx(tx('review', { payload: { rating: 0 } })),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'review rating 6',
      bytes: encodeTx(tx('review', { payload: { rating: 6 } })),
      error: 'DECODE_INT_RANGE',
    },
    {
      name: 'stake of 0',
      bytes: encodeTx(tx('stake', { payload: { amount: 0n } })),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'unstake of 0',
      bytes: encodeTx(tx('unstake', { payload: { amount: 0n } })),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'storeFile replication 0',
      bytes: encodeTx(tx('storeFile', { payload: { replication: 0 } })),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'storeFile replication 17',
      bytes: encodeTx(tx('storeFile', { payload: { replication: 17 } })),
      error: 'DECODE_INT_RANGE',
    },
    {
      name: 'storeFile chunkSize 0',
      bytes: encodeTx(tx('storeFile', { payload: { chunkSize: 0 } })),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'storeFile chunkSize 2^24 + 1',
      bytes: encodeTx(tx('storeFile', { payload: { chunkSize: 2 ** 24 + 1 } })),
      error: 'DECODE_INT_RANGE',
    },
    {
      name: 'registerDevice empty boardId',
      bytes: encodeTx(tx('registerDevice', { payload: { boardId: '' } })),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'registerDevice boardId of 33 bytes',
      bytes: encodeTx(tx('registerDevice', { payload: { boardId: 'b'.repeat(33) } })),
      error: 'DECODE_OVERSIZE',
    },
    {
      name: 'registerDevice devicePublicKey of 33 bytes',
      bytes: encodeTx(tx('registerDevice', { payload: { devicePublicKey: zeros(33) } })),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'registerService empty name',
      bytes: encodeTx(tx('registerService', { payload: { name: '' } })),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'registerValidator BLS key of 47 bytes',
      bytes: encodeTx(tx('registerValidator', { payload: { blsPublicKey: zeros(47) } })),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'registerValidator proof of possession of 95 bytes',
      bytes: encodeTx(tx('registerValidator', { payload: { blsPop: zeros(95) } })),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'registerValidator endpoint of 129 bytes',
      bytes: encodeTx(tx('registerValidator', { payload: { endpoint: 'e'.repeat(129) } })),
      error: 'DECODE_OVERSIZE',
    },
    {
      name: 'evidence kind 0',
      bytes: encodeTx(tx('evidence', { payload: { evidenceKind: 0 } })),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'evidence kind 4',
      bytes: encodeTx(tx('evidence', { payload: { evidenceKind: 4 } })),
      error: 'DECODE_INT_RANGE',
    },
    {
      name: 'evidence with an empty item',
      bytes: encodeTx(tx('evidence', { payload: { first: zeros(0) } })),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'evidence item of 4097 bytes',
      bytes: encodeTx(tx('evidence', { payload: { second: filled(4097, 1) } })),
      error: 'DECODE_OVERSIZE',
    },
    {
      name: 'atomix inputs and outputs sums differ',
      bytes: lock({ outputs: [{ ...crossTx.outputs[0]!, amount: crossTx.outputs[0]!.amount - 1n }] }),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'atomix output of amount 0',
      bytes: lock({ inputs: [part(1)], outputs: [part(1), part(0)] }),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'atomix without inputs',
      bytes: lock({ inputs: [], outputs: [] }),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'atomix with 9 inputs',
      bytes: lock({ inputs: Array.from({ length: 9 }, () => part(1)), outputs: [part(9)] }),
      error: 'DECODE_OVERSIZE',
    },
    { name: 'atomix salt of 15 bytes', bytes: lock({ salt: zeros(15) }), error: 'DECODE_INVALID_LENGTH' },
    { name: 'atomixLock inputIndex 2 of 2 inputs', bytes: lock({}, 2), error: 'DECODE_INT_RANGE' },
    {
      name: 'atomixCommit with one acceptance for two inputs',
      bytes: encodeTx(
        tx('atomixCommit', { payload: { acceptances: commit.payload.acceptances.slice(0, 1) } }),
      ),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'atomixAbort lock proof whose header has a 33-byte stateRoot',
      bytes: encodeTx(
        tx('atomixAbort', {
          payload: {
            rejection: {
              ...abort.payload.rejection,
              header: { ...abort.payload.rejection.header, stateRoot: zeros(33) },
            },
          },
        }),
      ),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'memo of 65 bytes',
      bytes: encodeTx(tx('transfer', { payload: { memo: filled(65, 0x61) } })),
      error: 'DECODE_OVERSIZE',
    },
    {
      name: 'chainId of 33 bytes',
      bytes: encodeTx(tx('transfer', { chainId: 'c'.repeat(33) })),
      error: 'DECODE_OVERSIZE',
    },
    {
      name: 'chainId with invalid UTF-8 (0xff)',
      bytes: patch(t.bytes, chain, `${chain.slice(0, 2)}ff${chain.slice(4)}`),
      error: 'DECODE_INVALID_UTF8',
    },
    {
      name: 'sender as text',
      bytes: patch(t.bytes, `5820${hex(b.sender)}`, `7820${hex(b.sender)}`),
      error: 'DECODE_UNEXPECTED_TYPE',
    },
    {
      name: 'non-canonical: nonce 7 widened to 0x18 0x07',
      bytes: patch(t.bytes, `${hex(b.sender)}07`, `${hex(b.sender)}1807`),
      error: 'DECODE_NON_CANONICAL',
      note: 'A re-encoding of a valid, correctly signed tx: the tx id is over the canonical body, so the widened body would have another id.',
    },
    {
      name: 'non-canonical: fee 10000 written with 8 bytes',
      bytes: patch(t.bytes, `${cborHex(b.expiry)}192710`, `${cborHex(b.expiry)}1b0000000000002710`),
      error: 'DECODE_NON_CANONICAL',
    },
    {
      name: 'fee as a negative integer',
      bytes: patch(t.bytes, `${cborHex(b.expiry)}192710`, `${cborHex(b.expiry)}392710`),
      error: 'DECODE_UNSUPPORTED',
    },
    {
      name: 'cbor-x default options (byte strings as tag 64)',
      bytes: viaCborx(t.bytes, cborxDefault),
      error: 'DECODE_UNSUPPORTED',
    },
    {
      name: 'cbor-x "deterministic" options: expiry (> 2^32) written as float64',
      bytes: viaCborx(t.bytes, cborxDeterministic),
      error: 'DECODE_UNSUPPORTED',
      note: 'cbor-x with useRecords:false, variableMapSize:true, tagUint8Array:false still writes integers >= 2^32 that are JS numbers as float64 (0xfb).',
    },
  ];
}
