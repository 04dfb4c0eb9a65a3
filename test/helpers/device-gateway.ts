/**
 * A fake gateway for light-client tests, backed by real core objects: committees and state blocks signed
 * as consensus signs them (test/helpers/chain.ts), a real sparse Merkle tree with one version per state
 * block, real blocks with inclusion proofs and finality certificates. It answers the device protocol
 * (core/device-protocol.ts) over an in-memory Transport, and `tamper` lets a test turn it into a liar.
 */
import { toHex } from '../../core/bytes.js';
import type { Committee } from '../../core/committee.js';
import {
  type DeviceRequest,
  type DeviceResponse,
  decodeDeviceRequest,
  encodeDeviceResponse,
  encodeStateBlockAnnouncement,
  MAX_STATE_BLOCK_STEPS,
  type StateBlockStep,
} from '../../core/device-protocol.js';
import { merkleProof } from '../../core/merkle.js';
import type { TxInclusionProof } from '../../core/proofs.js';
import { MemorySmtStore, SparseMerkleTree } from '../../core/smt-store.js';
import {
  type AccountState,
  type DeviceRecord,
  encodeAccount,
  encodeDeviceRecord,
  type StateNamespaceName,
  stateKey,
  stateValueHash,
} from '../../core/state.js';
import { ZERO_HASH } from '../../core/state-block.js';
import { parseTx, type Transaction } from '../../core/tx.js';
import type { Anchor } from '../../device/anchor.js';
import { DeviceError } from '../../device/errors.js';
import type { Transport, TransportChannel, TransportHandlers } from '../../device/transport/interface.js';
import {
  makeBlock,
  makeCommittee,
  makeFinalityCertificate,
  makeStateBlock,
  type TestCommittee,
} from './chain.js';
import { testCrypto as crypto } from './crypto.js';

export const BLOCKS_PER_STATE_BLOCK = 16;

interface SealedStateBlock extends StateBlockStep {
  readonly id: Uint8Array;
  readonly version: number;
}

/** A shard's history as a gateway holds it: state blocks, committees, state versions and blocks. */
export class FakeChain {
  readonly store = new MemorySmtStore();
  readonly tree = new SparseMerkleTree(this.store, crypto);
  readonly sealed: SealedStateBlock[] = [];
  committee: TestCommittee;
  private pending: [Uint8Array, Uint8Array | null][] = [];
  private version = 0;
  private readonly records = new Map<string, Uint8Array>();
  private readonly inclusions = new Map<string, TxInclusionProof>();
  private height = 0;

  constructor(
    readonly genesisHash: Uint8Array,
    first: TestCommittee,
  ) {
    this.committee = first;
  }

  setAccount(address: Uint8Array, a: AccountState): void {
    this.put('account', address, encodeAccount(a));
  }

  setDevice(identityHash: Uint8Array, d: DeviceRecord): void {
    this.put('device', identityHash, encodeDeviceRecord(d));
  }

  put(namespace: StateNamespaceName, id: Uint8Array, record: Uint8Array): void {
    this.records.set(`${namespace}/${toHex(id)}`, record);
    this.pending.push([stateKey(crypto, namespace, id), stateValueHash(crypto, record)]);
  }

  record(namespace: StateNamespaceName, id: Uint8Array): Uint8Array | null {
    return this.records.get(`${namespace}/${toHex(id)}`) ?? null;
  }

  /** Seals the pending writes into a new state version and a state block signed by the current committee. */
  seal(next?: TestCommittee, signers?: readonly number[]): SealedStateBlock {
    const base = this.version === 0 ? null : this.version;
    const version = this.version + 1;
    const batch = this.tree.applyBatch(base, version, this.pending);
    this.store.commit(version, batch);
    this.pending = [];
    this.version = version;
    this.snapshots.set(version, new Map(this.records));
    const prev = this.sealed.at(-1);
    const c = this.committee;
    const { stateBlock, id } = makeStateBlock(
      c,
      {
        index: this.sealed.length,
        fromHeight: this.sealed.length * BLOCKS_PER_STATE_BLOCK,
        toHeight: (this.sealed.length + 1) * BLOCKS_PER_STATE_BLOCK - 1,
        stateRoot: batch.root,
        previous: prev ? prev.id : ZERO_HASH,
        nextCommittee: (next ?? c).hash,
      },
      signers,
    );
    const sealed: SealedStateBlock = {
      stateBlock,
      id,
      nextCommittee: next ? next.committee : null,
      version,
    };
    this.sealed.push(sealed);
    if (next) this.committee = next;
    return sealed;
  }

  get latest(): SealedStateBlock {
    return this.sealed.at(-1)!;
  }

  proofAt(index: number, namespace: StateNamespaceName, id: Uint8Array) {
    const sb = this.sealed[index]!;
    return {
      stateBlock: sb.stateBlock,
      proof: {
        namespace,
        id,
        record: this.recordAt(sb.version, namespace, id),
        proof: this.tree.prove(sb.version, stateKey(crypto, namespace, id)),
      },
    };
  }

  private recordAt(version: number, namespace: StateNamespaceName, id: Uint8Array): Uint8Array | null {
    return this.snapshots.get(version)?.get(`${namespace}/${toHex(id)}`) ?? null;
  }

  /** The records as of each version (tests are small: a copy per state block is fine). */
  private readonly snapshots = new Map<number, Map<string, Uint8Array>>();

  /** Includes transactions in a block of the current committee; grade 2 adds a finality certificate. */
  include(txs: readonly Transaction[], grade: 1 | 2): void {
    const c = this.committee;
    this.height++;
    const { block, txIds } = makeBlock(c, txs, { height: this.height, epoch: c.committee.epoch });
    const certificate = grade === 2 ? makeFinalityCertificate(c, block.header) : null;
    txIds.forEach((id, i) => {
      this.inclusions.set(toHex(id), {
        header: block.header,
        proof: merkleProof(crypto, txIds, i),
        certificate,
      });
    });
  }

  inclusion(txId: Uint8Array): TxInclusionProof | undefined {
    return this.inclusions.get(toHex(txId));
  }
}

/** Builds committees c[0..n) for epochs 1..n with `members` members each. */
export function makeCommittees(n: number, members = 4, label = 'dev'): TestCommittee[] {
  return Array.from({ length: n }, (_, i) =>
    makeCommittee({
      epoch: i + 1,
      label: `${label}/${i + 1}`,
      weights: Array.from({ length: members }, (_, k) => 10 + ((k * 7) % 13)),
    }),
  );
}

export function genesisAnchor(chain: FakeChain, first: TestCommittee): Anchor {
  return { kind: 'genesis', genesisHash: chain.genesisHash, committee: first.committee };
}

export type Tamper = (req: DeviceRequest, honest: DeviceResponse) => DeviceResponse | 'drop';

/** Answers device requests from a FakeChain; `tamper` rewrites (or drops) any answer. */
export class FakeGateway {
  readonly submitted: Transaction[] = [];
  tamper: Tamper | null = null;
  /** Sees every request and the bytes answered (null: dropped), e.g. to record a replayable session. */
  onExchange: ((request: Uint8Array, response: Uint8Array | null) => void) | null = null;
  requests = 0;
  /** Bytes sent to devices per request kind (for sync-cost measurements). */
  readonly bytesOut = new Map<string, number>();

  constructor(readonly chain: FakeChain) {}

  answer(req: DeviceRequest): DeviceResponse {
    const { chain } = this;
    const requestId = req.requestId;
    switch (req.kind) {
      case 'getStateBlocks': {
        const latestIndex = chain.sealed.length - 1;
        const range = chain.sealed.slice(req.fromIndex);
        let picked = req.sparse
          ? range.filter((s, i) => s.nextCommittee !== null || i === range.length - 1)
          : range;
        picked = picked.slice(0, Math.min(req.limit, MAX_STATE_BLOCK_STEPS));
        const items = picked.map((s) => ({ stateBlock: s.stateBlock, nextCommittee: s.nextCommittee }));
        return { kind: 'stateBlocks', requestId, latestIndex, items };
      }
      case 'proveRecord': {
        const { stateBlock, proof } = chain.proofAt(chain.sealed.length - 1, req.namespace, req.id);
        return { kind: 'recordProof', requestId, stateBlock, proof };
      }
      case 'submitTx': {
        const { tx, id } = parseTx(crypto, req.tx);
        this.submitted.push(tx);
        return { kind: 'txAccepted', requestId, txId: id };
      }
      case 'getTxStatus': {
        const proof = chain.inclusion(req.txId) ?? null;
        const status = proof ? (proof.certificate ? 'grade2' : 'grade1') : 'pending';
        return { kind: 'txStatus', requestId, txId: req.txId, status, proof };
      }
    }
  }

  handle(bytes: Uint8Array): Uint8Array | null {
    this.requests++;
    const req = decodeDeviceRequest(bytes);
    const honest = this.answer(req);
    const out = this.tamper ? this.tamper(req, honest) : honest;
    if (out === 'drop') {
      this.onExchange?.(bytes, null);
      return null;
    }
    const encoded = encodeDeviceResponse(out);
    this.onExchange?.(bytes, encoded);
    this.bytesOut.set(req.kind, (this.bytesOut.get(req.kind) ?? 0) + encoded.length);
    return encoded;
  }

  announcement(index = this.chain.sealed.length - 1): Uint8Array {
    const s = this.chain.sealed[index]!;
    return encodeStateBlockAnnouncement({
      stateBlock: s.stateBlock,
      id: s.id,
      nextCommittee: s.nextCommittee,
    });
  }
}

/** An in-memory transport to a FakeGateway: answers arrive asynchronously, links can drop and return. */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  private handlers: TransportHandlers | null = null;
  private up = false;
  sent = 0;

  constructor(readonly gateway: FakeGateway) {}

  get connected(): boolean {
    return this.up;
  }

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
    this.up = true;
    handlers.onStatus('up');
  }

  async send(request: Uint8Array): Promise<void> {
    if (!this.up) throw new DeviceError('DEVICE_NOT_CONNECTED', 'memory link is down');
    this.sent++;
    setImmediate(() => {
      if (!this.up) return;
      const answer = this.gateway.handle(request);
      if (answer) this.deliver('response', answer);
    });
  }

  deliver(channel: TransportChannel, bytes: Uint8Array): void {
    if (this.up) this.handlers?.onMessage(channel, bytes);
  }

  announce(index?: number): void {
    this.deliver('announcement', this.gateway.announcement(index));
  }

  drop(): void {
    this.up = false;
    this.handlers?.onStatus('down', new Error('dropped by test'));
  }

  restore(): void {
    this.up = true;
    this.handlers?.onStatus('up');
  }

  async close(): Promise<void> {
    this.up = false;
  }
}

export type { Committee };

export interface DeviceScenario {
  readonly committees: TestCommittee[];
  readonly chain: FakeChain;
  readonly gateway: FakeGateway;
  readonly transport: MemoryTransport;
  readonly anchor: Anchor;
}

export const DEVICE_START_BALANCE = 5_000_000n;

/**
 * Three epochs: state blocks 0-1 by committee 1 (1 is the transition to 2), 2-3 by committee 2 (3 changes
 * to 3), 4 by committee 3. `device` (address, identity) is funded and registered from state block 0.
 */
export function buildDeviceScenario(
  device: {
    address: Uint8Array;
    identityHash: Uint8Array;
    publicKey: Uint8Array;
    boardId: string;
    hardwareSerial: string;
    owner: Uint8Array;
  },
  opts: { members?: number } = {},
): DeviceScenario {
  const committees = makeCommittees(3, opts.members ?? 4);
  const [c1, c2, c3] = committees as [TestCommittee, TestCommittee, TestCommittee];
  const chain = new FakeChain(crypto.sha256(new TextEncoder().encode('device-test-genesis')), c1);
  chain.setAccount(device.address, { ...EMPTY_ACCOUNT_STATE, balance: DEVICE_START_BALANCE });
  chain.setDevice(device.identityHash, {
    owner: device.owner,
    devicePublicKey: device.publicKey,
    boardId: device.boardId,
    hardwareSerial: device.hardwareSerial,
    registeredHeight: 3,
  });
  chain.seal();
  chain.seal(c2);
  chain.seal();
  chain.seal(c3);
  chain.seal();
  const gateway = new FakeGateway(chain);
  return {
    committees,
    chain,
    gateway,
    transport: new MemoryTransport(gateway),
    anchor: genesisAnchor(chain, c1),
  };
}

const EMPTY_ACCOUNT_STATE: AccountState = {
  balance: 0n,
  nonce: 0,
  staked: 0n,
  unbonding: 0n,
  unbondingEpoch: 0,
  locked: 0n,
};
