/**
 * The fixed, deterministic objects behind test/vectors/objects/*.json (valid part). The vector test rebuilds
 * them and compares bytes, so changing any format, hash or builder default shows up as a vector diff that
 * must be regenerated deliberately (npx tsx scripts/gen-vectors-objects.ts).
 */
import type { Committee } from '../../core/committee.js';
import { EMPTY_ACCOUNT } from '../../core/state.js';
import { ZERO_HASH } from '../../core/state-block.js';
import { makeCrossShardTx } from './atomix.js';
import {
  fakeHash,
  makeBlock,
  makeCommittee,
  makeFinalityCertificate,
  makeHeader,
  makeStateBlock,
} from './chain.js';
import { makeGenesis } from './genesis.js';
import { ed25519Key } from './keys.js';
import type { ObjectKind } from './objects.js';
import { makeTx, TX_KINDS } from './tx.js';

export interface ObjectCase {
  readonly name: string;
  readonly value: unknown;
  readonly note?: string;
}

const U64_MAX = (1n << 64n) - 1n;

export function validObjectCases(): Record<ObjectKind, ObjectCase[]> {
  const tc = makeCommittee();
  const next = makeCommittee({ epoch: 2, label: 'committee/0/epoch2' });
  const { header } = makeHeader(tc);
  const genesisHeader = makeHeader(tc, { height: 0, view: 0, parent: ZERO_HASH, time: 0 }).header;
  const blockTxs = [makeTx('transfer').tx, makeTx('stake').tx, makeTx('registerDevice').tx];
  const first = makeStateBlock(tc).stateBlock;
  const firstId = makeStateBlock(tc).id;
  const big: Committee = makeCommittee({
    weights: [5, 9, 1, 7, 3, 8, 2, 6, 4],
    leagueSize: 3,
    label: 'committee/9',
  }).committee;
  const alice = ed25519Key('alice');
  const crossTx = makeCrossShardTx();
  return {
    tx: [
      ...TX_KINDS.map((k) => ({ name: k, value: makeTx(k).tx })),
      {
        name: 'transfer for another chain',
        value: makeTx('transfer', { chainId: 'iosnet-other' }).tx,
        note: 'Same fields as "transfer" but chainId "iosnet-other": it decodes, but its id (and so its signature) differs, so a node of iosnet-test never finds it valid (replay protection is the chain id inside the signed body).',
      },
    ],
    header: [
      { name: 'header', value: header },
      { name: 'height 0, zero parent, time 0', value: genesisHeader },
    ],
    block: [
      { name: 'three transactions', value: makeBlock(tc, blockTxs).block },
      { name: 'empty block', value: makeBlock(tc, [], { height: 101 }).block },
    ],
    finalityCertificate: [
      { name: 'certificate of "header"', value: makeFinalityCertificate(tc, header) },
      { name: 'all members signed', value: makeFinalityCertificate(tc, header, [0, 1, 2, 3]) },
    ],
    committee: [
      { name: 'four members', value: tc.committee },
      { name: 'nine members (two-byte signer bitmaps)', value: big },
    ],
    stateBlock: [
      { name: 'index 0', value: first },
      {
        name: 'index 1, committee transition',
        value: makeStateBlock(tc, {
          index: 1,
          fromHeight: 16,
          toHeight: 31,
          previous: firstId,
          stateRoot: fakeHash('stateRoot/31'),
          nextCommittee: next.hash,
        }).stateBlock,
      },
      {
        name: 'one height (fromHeight = toHeight)',
        value: makeStateBlock(tc, { fromHeight: 5, toHeight: 5 }).stateBlock,
      },
    ],
    account: [
      { name: 'empty account', value: EMPTY_ACCOUNT },
      {
        name: 'every field used',
        value: {
          balance: 123_456_789_000n,
          nonce: 42,
          staked: 2_000_000n * 100_000_000n,
          unbonding: 5n,
          unbondingEpoch: 9,
          locked: 300_000_000n,
        },
      },
      {
        name: 'u64 maximum balance',
        value: {
          balance: U64_MAX,
          nonce: Number.MAX_SAFE_INTEGER,
          staked: 0n,
          unbonding: 0n,
          unbondingEpoch: 0,
          locked: 0n,
        },
      },
    ],
    deviceRecord: [
      {
        name: 'rpi4 device',
        value: {
          owner: alice.address,
          devicePublicKey: ed25519Key('device/rpi4-0001').publicKey,
          boardId: 'rpi4',
          hardwareSerial: '10000000abcdef01',
          registeredHeight: 100,
        },
      },
      {
        name: 'non-ASCII serial',
        value: {
          owner: alice.address,
          devicePublicKey: ed25519Key('device/drone-7').publicKey,
          boardId: 'drone-companion',
          hardwareSerial: 'Ünit-7 ✈',
          registeredHeight: 0,
        },
      },
    ],
    fileRecord: [
      {
        name: 'firmware image',
        value: {
          owner: alice.address,
          size: 1_048_576,
          chunkSize: 262_144,
          replication: 3,
          name: 'firmware.bin',
          storedHeight: 120,
        },
      },
    ],
    atomixLockRecord: [
      {
        name: 'accepted',
        value: {
          crossTxId: fakeHash('crossTx'),
          inputIndex: 0,
          status: 'accepted',
          amount: crossTx.inputs[0]!.amount,
        },
      },
      {
        name: 'aborted, input 255',
        value: { crossTxId: fakeHash('crossTx'), inputIndex: 255, status: 'aborted', amount: 1n },
      },
    ],
    genesis: [{ name: 'test genesis', value: makeGenesis() }],
  };
}
