/**
 * Deterministic device-protocol messages (docs/protocol.md §16) for the vectors in
 * test/vectors/device-protocol/ and their test: every message kind, an auth token with a fixed nonce, and
 * inputs each decoder must refuse with a given DecodeError code.
 */
import { concatBytes } from '../../core/bytes.js';
import { CborWriter } from '../../core/cbor.js';
import {
  type DeviceAuthToken,
  deviceAuthMessage,
  encodeDeviceAuthToken,
  encodeDeviceRequest,
  encodeDeviceResponse,
  encodeStateBlockAnnouncement,
} from '../../core/device-protocol.js';
import { deviceIdentityHash } from '../../core/identity.js';
import { merkleProof, merkleRoot } from '../../core/merkle.js';
import { MemorySmtStore, SparseMerkleTree } from '../../core/smt-store.js';
import { EMPTY_ACCOUNT, encodeAccount, stateKey, stateValueHash } from '../../core/state.js';
import {
  fakeHash,
  makeCommittee,
  makeFinalityCertificate,
  makeHeader,
  makeStateBlock,
  TEST_CHAIN_ID,
  TEST_TIME,
} from './chain.js';
import { testCrypto as crypto } from './crypto.js';
import { ed25519Key } from './keys.js';
import { makeTx } from './tx.js';

export type DeviceCodec = 'announcement' | 'request' | 'response' | 'authToken';

export interface DeviceValidCase {
  readonly name: string;
  readonly codec: DeviceCodec;
  readonly bytes: Uint8Array;
}

export interface DeviceRejectCase {
  readonly name: string;
  readonly codec: DeviceCodec;
  readonly bytes: Uint8Array;
  readonly code: string;
}

export function deviceValidCases(): DeviceValidCase[] {
  const c1 = makeCommittee({ epoch: 1 });
  const c2 = makeCommittee({ epoch: 2, label: 'next' });
  const sb = makeStateBlock(c1, { index: 3, fromHeight: 48, toHeight: 63 });
  const change = makeStateBlock(c1, { index: 4, fromHeight: 64, toHeight: 79, nextCommittee: c2.hash });
  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store, crypto);
  const address = fakeHash('alice');
  const record = encodeAccount({ ...EMPTY_ACCOUNT, balance: 5n, nonce: 1 });
  store.commit(
    1,
    tree.applyBatch(null, 1, [[stateKey(crypto, 'account', address), stateValueHash(crypto, record)]]),
  );
  const proof = {
    namespace: 'account' as const,
    id: address,
    record,
    proof: tree.prove(1, stateKey(crypto, 'account', address)),
  };
  const tx = makeTx('transfer');
  const { header } = makeHeader(c1, { txCount: 1, txRoot: merkleRoot(crypto, [tx.id]) });
  const inclusion = { header, proof: merkleProof(crypto, [tx.id], 0), certificate: null };
  const key = ed25519Key('device/rpi4-0001');
  const fields = {
    chainId: TEST_CHAIN_ID,
    deviceId: deviceIdentityHash(crypto, 'rpi4', key.publicKey, 'SN-1'),
    audience: 'a'.repeat(64),
    expiry: TEST_TIME + 60_000,
    nonce: fakeHash('nonce').subarray(0, 16),
  };
  const token: DeviceAuthToken = {
    ...fields,
    signature: crypto.ed25519.sign(deviceAuthMessage(crypto, fields), key.secretKey),
  };
  const req = (name: string, m: Parameters<typeof encodeDeviceRequest>[0]): DeviceValidCase => ({
    name,
    codec: 'request',
    bytes: encodeDeviceRequest(m),
  });
  const res = (name: string, m: Parameters<typeof encodeDeviceResponse>[0]): DeviceValidCase => ({
    name,
    codec: 'response',
    bytes: encodeDeviceResponse(m),
  });
  return [
    {
      name: 'announcement',
      codec: 'announcement',
      bytes: encodeStateBlockAnnouncement({ stateBlock: sb.stateBlock, id: sb.id, nextCommittee: null }),
    },
    {
      name: 'announcement of a committee change',
      codec: 'announcement',
      bytes: encodeStateBlockAnnouncement({
        stateBlock: change.stateBlock,
        id: change.id,
        nextCommittee: c2.committee,
      }),
    },
    req('getStateBlocks', { kind: 'getStateBlocks', requestId: 1, fromIndex: 3, limit: 64, sparse: true }),
    req('proveRecord account', { kind: 'proveRecord', requestId: 2, namespace: 'account', id: address }),
    req('submitTx', { kind: 'submitTx', requestId: 3, tx: tx.bytes }),
    req('getTxStatus', { kind: 'getTxStatus', requestId: 0xffffffff, txId: tx.id }),
    res('stateBlocks', {
      kind: 'stateBlocks',
      requestId: 1,
      latestIndex: 4,
      items: [
        { stateBlock: sb.stateBlock, nextCommittee: null },
        { stateBlock: change.stateBlock, nextCommittee: c2.committee },
      ],
    }),
    res('recordProof', { kind: 'recordProof', requestId: 2, stateBlock: sb.stateBlock, proof }),
    res('txAccepted', { kind: 'txAccepted', requestId: 3, txId: tx.id }),
    res('txStatus pending', { kind: 'txStatus', requestId: 4, txId: tx.id, status: 'pending', proof: null }),
    res('txStatus grade1', {
      kind: 'txStatus',
      requestId: 4,
      txId: tx.id,
      status: 'grade1',
      proof: inclusion,
    }),
    res('txStatus grade2', {
      kind: 'txStatus',
      requestId: 4,
      txId: tx.id,
      status: 'grade2',
      proof: { ...inclusion, certificate: makeFinalityCertificate(c1, header) },
    }),
    res('error', {
      kind: 'error',
      requestId: 5,
      code: 'rateLimited',
      detail: 'RATE_LIMITED: too many requests',
    }),
    { name: 'auth token', codec: 'authToken', bytes: encodeDeviceAuthToken(token) },
  ];
}

export function deviceRejectCases(valid: readonly DeviceValidCase[]): DeviceRejectCase[] {
  const of = (name: string) => valid.find((v) => v.name === name)!.bytes;
  const withByte = (b: Uint8Array, i: number, v: number) => {
    const out = b.slice();
    out[i] = v;
    return out;
  };
  const status = of('getTxStatus');
  return [
    {
      name: 'trailing byte',
      codec: 'request',
      bytes: concatBytes(status, new Uint8Array([0])),
      code: 'DECODE_TRAILING_BYTES',
    },
    { name: 'version 2', codec: 'request', bytes: withByte(status, 1, 2), code: 'DECODE_UNKNOWN_VERSION' },
    {
      name: 'unknown kind 20',
      codec: 'request',
      bytes: withByte(status, 2, 20),
      code: 'DECODE_UNKNOWN_TYPE',
    },
    {
      name: 'request id 1 not in shortest form',
      codec: 'request',
      bytes: concatBytes(new Uint8Array([0x84, 0x01, 0x13, 0x18, 0x01]), status.subarray(8)),
      code: 'DECODE_NON_CANONICAL',
    },
    { name: 'a map', codec: 'request', bytes: new Uint8Array([0xa0]), code: 'DECODE_UNSUPPORTED' },
    { name: 'empty', codec: 'request', bytes: new Uint8Array(), code: 'DECODE_TRUNCATED' },
    {
      name: 'limit 0',
      codec: 'request',
      bytes: new CborWriter().array(6).uint(1).uint(16).uint(1).uint(0).uint(0).bool(true).finish(),
      code: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'grade2 without certificate',
      codec: 'response',
      bytes: withByte(of('txStatus grade1'), 39, 3),
      code: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'unknown error code 99',
      codec: 'response',
      bytes: new CborWriter().array(5).uint(1).uint(63).uint(1).uint(99).text('x').finish(),
      code: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'committee missing at a change',
      codec: 'announcement',
      bytes: concatBytes(
        of('announcement of a committee change').subarray(0, of('announcement').length - 1),
        new Uint8Array([0xf6]),
      ),
      code: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'token version 2',
      codec: 'authToken',
      bytes: withByte(of('auth token'), 1, 2),
      code: 'DECODE_UNKNOWN_VERSION',
    },
    {
      name: 'token with trailing byte',
      codec: 'authToken',
      bytes: concatBytes(of('auth token'), new Uint8Array([0])),
      code: 'DECODE_TRAILING_BYTES',
    },
  ];
}
