/**
 * The light client (docs/device.md): `createLightClient({ anchor, transport, keyStore })`.
 *
 * It believes the trust anchor and nothing else: every state block is verified into the head
 * (device/sync.ts), every record (its account, its registration) is verified by a Merkle proof against the
 * head's state root, every transaction status by an inclusion proof under a committee it holds. A gateway
 * that lies fails a check and the caller gets a typed DeviceError; the head never moves on a failed check.
 *
 * Hidden transactions: a gateway can always claim not to know a transaction. The device catches the lie
 * with its own account: once the proven nonce has passed a transaction's nonce, that nonce was used, and
 * only this device signs with its key, so the transaction was included: "unknown" is then DEVICE_TX_HIDDEN.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { equalBytes, toHex } from '../core/bytes.js';
import type { Crypto } from '../core/crypto.js';
import { createPortableCrypto } from '../core/crypto-portable.js';
import type { RecordProof, StateBlockAnnouncement, TxStatusName } from '../core/device-protocol.js';
import { IosnetError } from '../core/errors.js';
import type { StateNamespaceName } from '../core/state.js';
import {
  type AccountState,
  type DeviceRecord,
  decodeAccount,
  decodeDeviceRecord,
  EMPTY_ACCOUNT,
} from '../core/state.js';
import { stateBlockIdOf } from '../core/state-block.js';
import {
  encodeTx,
  encodeTxBody,
  type Transaction,
  type TxBody,
  type TxPayload,
  txIdOfBody,
} from '../core/tx.js';
import { verifyStateProof, verifyTxInclusion } from '../core/verify.js';
import { type Anchor, decodeAnchor } from './anchor.js';
import { DeviceError, deviceFail } from './errors.js';
import { GatewayLink } from './gateway-link.js';
import type { DeviceKeyStore } from './keystore.js';
import { StateBlockSync, type SyncStep } from './sync.js';
import type { Transport } from './transport/interface.js';
import { defaultRequestTrackerOptions } from './transport/requests.js';
import { type SubmittedTx, TxTracker } from './tx-tracker.js';

export interface LightClientOptions {
  /** The trust anchor, decoded or as its canonical bytes. */
  readonly anchor: Anchor | Uint8Array;
  readonly transport: Transport;
  readonly keyStore: DeviceKeyStore;
  /** Default: the portable (noble) backend with node:crypto's randomBytes. */
  readonly crypto?: Crypto;
  readonly now?: () => number;
  readonly requestTimeoutMs?: number;
  readonly maxPendingRequests?: number;
  /** Transactions expire this long after they are signed. */
  readonly txTtlMs?: number;
  readonly defaultFee?: bigint;
  /** How often waitForGrade asks when no state block arrives. */
  readonly pollIntervalMs?: number;
  /** Submitted transactions tracked until final or expired. */
  readonly maxTrackedTxs?: number;
  readonly onEvent?: (event: LightClientEvent) => void;
}

export type LightClientEvent =
  | { readonly type: 'stateBlock'; readonly index: number; readonly epoch: number }
  | { readonly type: 'status'; readonly status: 'up' | 'down'; readonly detail?: string }
  /** A gateway message failed a check (an attack or a broken gateway); nothing changed. */
  | { readonly type: 'rejected'; readonly error: IosnetError };

export const defaultLightClientOptions = {
  txTtlMs: 120_000,
  defaultFee: 1_000n,
  pollIntervalMs: 1_000,
  maxTrackedTxs: 64,
} as const;

export interface VerifiedAccount {
  readonly account: AccountState;
  /** The state block whose root proved it. */
  readonly stateBlockIndex: number;
}

export type { SubmittedTx } from './tx-tracker.js';

export interface VerifiedTxStatus {
  /** 0: not (provably) included yet. */
  readonly grade: 0 | 1 | 2;
  readonly status: TxStatusName | 'expired';
  readonly height?: number;
}

/** A register-device transaction the device has co-signed; the owner (sender) adds the first signature. */
export interface RegistrationRequest {
  readonly body: TxBody;
  readonly txId: Uint8Array;
  readonly deviceSignature: Uint8Array;
}

export class LightClient {
  readonly crypto: Crypto;
  readonly sync: StateBlockSync;
  private readonly link: GatewayLink;
  private readonly now: () => number;
  private readonly txs: TxTracker;
  private syncing: Promise<void> | null = null;
  /** The newest announcement that arrived during a sync: applied once the sync is over. */
  private deferred: StateBlockAnnouncement | null = null;
  /** Connecting in start(): the broker may deliver an announcement before the first sync has begun. */
  private starting = false;
  private stateBlockWaiters: (() => void)[] = [];
  private closed = false;
  private wasDown = false;
  /** Counters for status and tests. */
  readonly stats = { resyncs: 0, rejected: 0, malformed: 0, announcementsApplied: 0 };

  constructor(private readonly opts: LightClientOptions) {
    this.crypto = opts.crypto ?? createPortableCrypto((n) => new Uint8Array(nodeRandomBytes(n)));
    this.now = opts.now ?? Date.now;
    this.txs = new TxTracker(opts.maxTrackedTxs ?? defaultLightClientOptions.maxTrackedTxs, this.now);
    const anchor = opts.anchor instanceof Uint8Array ? decodeAnchor(this.crypto, opts.anchor) : opts.anchor;
    this.sync = new StateBlockSync(this.crypto, anchor);
    this.link = new GatewayLink(
      opts.transport,
      {
        timeoutMs: opts.requestTimeoutMs ?? defaultRequestTrackerOptions.timeoutMs,
        maxPending: opts.maxPendingRequests ?? defaultRequestTrackerOptions.maxPending,
      },
      {
        onAnnouncement: (a) => this.onAnnouncement(a),
        onStatus: (status, detail) => this.onStatus(status, detail),
        onMalformed: (err) => {
          this.stats.malformed++;
          this.emit({ type: 'rejected', error: err as IosnetError });
        },
      },
    );
  }

  get keyStore(): DeviceKeyStore {
    return this.opts.keyStore;
  }

  get connected(): boolean {
    return this.opts.transport.connected;
  }

  /** Connects and syncs from the anchor (or from the head kept across reconnects). */
  async start(): Promise<void> {
    this.starting = true;
    try {
      await this.link.start();
    } finally {
      this.starting = false;
    }
    await this.syncNow();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.stateBlockWaiters.splice(0)) w();
    await this.link.close();
  }

  /** Brings the head up to the gateway's latest state block; concurrent callers share one sync. */
  syncNow(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.runSync().finally(() => {
        this.syncing = null;
        const a = this.deferred;
        this.deferred = null;
        if (a && !this.closed) this.onAnnouncement(a);
      });
    }
    return this.syncing;
  }

  private async runSync(): Promise<void> {
    // Each round must move the head; a gateway claiming a later index it never delivers cannot loop us.
    for (let round = 0; round < 1024; round++) {
      const from = this.sync.nextIndex;
      const answer = await this.link.getStateBlocks(from, true);
      if (answer.items.length === 0) return;
      const before = this.sync.head.stateBlock?.index ?? -1;
      await this.applySteps(answer.items);
      const after = this.sync.head.stateBlock?.index ?? -1;
      if (after === before || after >= answer.latestIndex) return;
    }
  }

  private async applySteps(items: readonly SyncStep[]): Promise<void> {
    for (const item of items) {
      if (this.sync.apply(item) === 'applied') this.onNewHead();
      // Each step is a BLS verification: ~50 ms natively, ~1 s of CPU on an ARM board emulated by qemu
      // (measured). A sync across many epochs in one go kept the event loop busy for tens of seconds there,
      // long enough for MQTT keepalive to drop the link and the next request to time out; between steps,
      // the link gets its turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private onNewHead(): void {
    const sb = this.sync.head.stateBlock!;
    this.emit({ type: 'stateBlock', index: sb.index, epoch: sb.epoch });
    for (const w of this.stateBlockWaiters.splice(0)) w();
  }

  private onAnnouncement(a: StateBlockAnnouncement): void {
    try {
      if (!equalBytes(stateBlockIdOf(this.crypto, a.stateBlock), a.id)) {
        throw new DeviceError('DEVICE_MALFORMED_RESPONSE', 'announcement id is not the state block id');
      }
      // A sync in progress fetches up to the latest state block anyway: announcements arriving meanwhile
      // are either behind it or, before it has crossed into their epoch, signed by a committee the head
      // does not hold yet (rejected). Keep only the newest and apply it after the sync, which spares a
      // slow board one BLS verification per announcement.
      if (this.syncing || this.starting) {
        if (!this.deferred || a.stateBlock.index > this.deferred.stateBlock.index) this.deferred = a;
        return;
      }
      const head = this.sync.head.stateBlock;
      // Not the next one (we missed some, or it is in a later epoch): ask instead of guessing.
      if (
        head &&
        a.stateBlock.index > head.index + 1 &&
        !equalBytes(a.stateBlock.committee, this.sync.head.committee.hash)
      ) {
        void this.syncNow().catch((err) => this.reject(err));
        return;
      }
      if (this.sync.apply(a) === 'applied') {
        this.stats.announcementsApplied++;
        this.onNewHead();
      }
    } catch (err) {
      this.reject(err);
    }
  }

  private onStatus(status: 'up' | 'down', detail?: Error): void {
    this.emit({ type: 'status', status, ...(detail ? { detail: detail.message } : {}) });
    if (status === 'down') {
      this.wasDown = true;
      return;
    }
    if (this.wasDown) {
      // Resume: the verified head survives the outage; only what came after it is fetched.
      this.stats.resyncs++;
      void this.syncNow().catch((err) => this.reject(err));
    }
  }

  private reject(err: unknown): void {
    if (
      err instanceof DeviceError &&
      (err.code === 'DEVICE_NOT_CONNECTED' || err.code === 'DEVICE_CLOSED' || err.code === 'DEVICE_TIMEOUT')
    )
      return;
    this.stats.rejected++;
    if (err instanceof IosnetError) this.emit({ type: 'rejected', error: err });
  }

  private emit(e: LightClientEvent): void {
    this.opts.onEvent?.(e);
  }

  // ---- verified queries ----

  /**
   * A record proven against a verified state block: the answer's state block must be the head, or a later
   * one that verifies (then it becomes the head); an older one is DEVICE_PROOF_STALE.
   */
  private async proveRecord(
    namespace: StateNamespaceName,
    id: Uint8Array,
  ): Promise<{ record: Uint8Array | null; index: number }> {
    const answer: RecordProof = await this.link.proveRecord(namespace, id);
    await this.adoptStateBlock(answer);
    const sb = answer.stateBlock;
    try {
      return {
        record: verifyStateProof(this.crypto, sb.stateRoot, answer.proof, { namespace, id }),
        index: sb.index,
      };
    } catch (err) {
      this.stats.rejected++;
      return deviceFail(
        'DEVICE_PROOF_INVALID',
        `${namespace} proof does not verify under state block ${sb.index}`,
        err,
      );
    }
  }

  private async adoptStateBlock(answer: RecordProof): Promise<void> {
    const sb = answer.stateBlock;
    const head = this.sync.head.stateBlock;
    if (head && sb.index < head.index) {
      this.stats.rejected++;
      throw new DeviceError(
        'DEVICE_PROOF_STALE',
        `proof is under state block ${sb.index}, the device has verified ${head.index}`,
        {
          proofIndex: sb.index,
          headIndex: head.index,
        },
      );
    }
    if (head && sb.index === head.index) {
      this.sync.apply({ stateBlock: sb, nextCommittee: null }); // 'known', or throws FORGED for another block
      return;
    }
    // A later state block: within our committee it verifies directly; across a transition, sync first.
    if (
      !equalBytes(sb.committee, this.sync.head.committee.hash) ||
      !equalBytes(sb.committee, sb.nextCommittee)
    ) {
      // A sync already running (joined here) may end below sb's epoch when the chain moved on while a slow
      // board was verifying (seen under qemu: a 45 s sync across a 32 s epoch); sync again while it
      // makes progress. A gateway claiming a state block it never serves stops that loop, and the
      // apply below then fails as before.
      for (;;) {
        const before = this.sync.head.stateBlock?.index ?? -1;
        await this.syncNow();
        const after = this.sync.head.stateBlock?.index ?? -1;
        if (after >= sb.index || after === before || equalBytes(sb.committee, this.sync.head.committee.hash))
          break;
      }
      const now = this.sync.head.stateBlock;
      if (now && sb.index < now.index) {
        throw new DeviceError(
          'DEVICE_PROOF_STALE',
          `proof is under state block ${sb.index}, the device has verified ${now.index}`,
        );
      }
      if (now && sb.index === now.index) {
        this.sync.apply({ stateBlock: sb, nextCommittee: null });
        return;
      }
    }
    if (this.sync.apply({ stateBlock: sb, nextCommittee: null }) === 'applied') this.onNewHead();
  }

  /** This device's account (balance, nonce...), proven; an account never funded reads as all zeros. */
  async account(): Promise<VerifiedAccount> {
    const { record, index } = await this.proveRecord('account', this.keyStore.address);
    let account = EMPTY_ACCOUNT;
    if (record) {
      try {
        account = decodeAccount(record);
      } catch (err) {
        deviceFail('DEVICE_PROOF_INVALID', 'proven account record does not decode', err);
      }
    }
    this.txs.observeNonce(account.nonce);
    return { account, stateBlockIndex: index };
  }

  /** This device's registration as the chain holds it (a proof, not a message), or null if absent. */
  async registration(): Promise<DeviceRecord | null> {
    const ks = this.keyStore;
    const { record } = await this.proveRecord('device', ks.identityHash);
    if (!record) return null;
    let d: DeviceRecord;
    try {
      d = decodeDeviceRecord(record);
    } catch (err) {
      return deviceFail('DEVICE_PROOF_INVALID', 'proven device record does not decode', err);
    }
    if (
      !equalBytes(d.devicePublicKey, ks.publicKey) ||
      d.boardId !== ks.boardId ||
      d.hardwareSerial !== ks.hardwareSerial
    ) {
      throw new DeviceError(
        'DEVICE_PROOF_INVALID',
        'the device record under our identity hash names another device',
      );
    }
    return d;
  }

  /** Like registration(), but DEVICE_NOT_REGISTERED when the chain proves there is none. */
  async requireRegistration(): Promise<DeviceRecord> {
    const d = await this.registration();
    if (!d)
      throw new DeviceError(
        'DEVICE_NOT_REGISTERED',
        `device ${toHex(this.keyStore.identityHash)} is not registered`,
      );
    return d;
  }

  // ---- transactions ----

  /**
   * The register-device transaction for `owner` (its Ed25519 public key, the sender), co-signed by the
   * device. The owner signs `txId` and calls submitSigned with [ownerSignature, deviceSignature].
   */
  registrationRequest(owner: { publicKey: Uint8Array; nonce: number; fee?: bigint }): RegistrationRequest {
    return buildRegistrationRequest(this.crypto, this.keyStore, {
      chainId: this.sync.chainId,
      owner: owner.publicKey,
      nonce: owner.nonce,
      expiry: this.now() + (this.opts.txTtlMs ?? defaultLightClientOptions.txTtlMs),
      fee: owner.fee ?? this.opts.defaultFee ?? defaultLightClientOptions.defaultFee,
    });
  }

  /** Sends an already signed transaction (e.g. a registration the owner co-signed); not nonce-tracked. */
  async submitSigned(tx: Transaction): Promise<Uint8Array> {
    const bytes = encodeTx(tx);
    const id = txIdOfBody(this.crypto, encodeTxBody(tx.body));
    const ack = await this.link.submitTx(bytes);
    if (!equalBytes(ack.txId, id))
      throw new DeviceError('DEVICE_MALFORMED_RESPONSE', 'gateway acknowledged another transaction id');
    return id;
  }

  /** Signs and submits a transaction from the device's own account; tracks it for txStatus/waitForGrade. */
  async submit(payload: TxPayload, opts: { fee?: bigint } = {}): Promise<SubmittedTx> {
    if (this.txs.needsNonce()) await this.account();
    const { nonce, release } = this.txs.reserve();
    const body: TxBody = {
      chainId: this.sync.chainId,
      sender: this.keyStore.publicKey,
      nonce,
      expiry: this.now() + (this.opts.txTtlMs ?? defaultLightClientOptions.txTtlMs),
      fee: opts.fee ?? this.opts.defaultFee ?? defaultLightClientOptions.defaultFee,
      payload,
    };
    const id = txIdOfBody(this.crypto, encodeTxBody(body));
    try {
      await this.submitSigned({ body, signatures: [this.keyStore.sign(id)] });
    } catch (err) {
      release();
      throw err;
    }
    const submitted: SubmittedTx = { id, nonce, expiry: body.expiry };
    this.txs.add(submitted);
    return submitted;
  }

  transfer(
    to: Uint8Array,
    amount: bigint,
    opts: { memo?: Uint8Array; fee?: bigint } = {},
  ): Promise<SubmittedTx> {
    return this.submit({ kind: 'transfer', to, amount, memo: opts.memo ?? new Uint8Array(0) }, opts);
  }

  /** A service payment: a transfer to the provider carrying the service id as its memo. */
  payService(
    provider: Uint8Array,
    serviceId: Uint8Array,
    amount: bigint,
    opts: { fee?: bigint } = {},
  ): Promise<SubmittedTx> {
    return this.transfer(provider, amount, { ...opts, memo: serviceId });
  }

  review(
    serviceId: Uint8Array,
    rating: number,
    commentHash: Uint8Array,
    opts: { fee?: bigint } = {},
  ): Promise<SubmittedTx> {
    return this.submit({ kind: 'review', serviceId, rating, commentHash }, opts);
  }

  /**
   * A transaction's grade, proven: grade 1/2 by an inclusion proof under a committee the device holds;
   * "unknown"/"pending" are checked against the proven nonce for the device's own transactions.
   */
  async txStatus(txId: Uint8Array): Promise<VerifiedTxStatus> {
    const answer = await this.link.getTxStatus(txId);
    if (!equalBytes(answer.txId, txId))
      throw new DeviceError('DEVICE_MALFORMED_RESPONSE', 'status is for another transaction');
    if (answer.proof) {
      let committee = this.sync.committeeFor(answer.proof.header.epoch);
      if (!committee) {
        await this.syncNow();
        committee = this.sync.committeeFor(answer.proof.header.epoch);
      }
      if (!committee) {
        throw new DeviceError(
          'DEVICE_PROOF_STALE',
          `inclusion proof is for epoch ${answer.proof.header.epoch}, whose committee the device does not hold`,
        );
      }
      try {
        const inc = verifyTxInclusion(this.crypto, committee, txId, answer.proof);
        if (inc.grade === 2) this.txs.finalized(txId);
        return { grade: inc.grade, status: answer.status, height: inc.height };
      } catch (err) {
        this.stats.rejected++;
        return deviceFail('DEVICE_PROOF_INVALID', 'inclusion proof does not verify', err);
      }
    }
    const mine = this.txs.get(txId);
    if (!mine) return { grade: 0, status: answer.status };
    const { account } = await this.account();
    try {
      return {
        grade: 0,
        status: this.txs.judge(mine, account.nonce, answer.status) === 'expired' ? 'expired' : answer.status,
      };
    } catch (err) {
      this.stats.rejected++;
      throw err;
    }
  }

  /** Resolves once the transaction reaches `grade` (1 or 2), proven; DEVICE_TX_EXPIRED / DEVICE_TIMEOUT otherwise. */
  async waitForGrade(
    txId: Uint8Array,
    grade: 1 | 2,
    opts: { timeoutMs?: number } = {},
  ): Promise<VerifiedTxStatus> {
    const deadline = this.now() + (opts.timeoutMs ?? 60_000);
    const poll = this.opts.pollIntervalMs ?? defaultLightClientOptions.pollIntervalMs;
    for (;;) {
      if (this.closed) throw new DeviceError('DEVICE_CLOSED', 'light client closed');
      let s: VerifiedTxStatus | undefined;
      try {
        s = await this.txStatus(txId);
      } catch (err) {
        // A dropped link is not an answer: wait for the next chance. Any verification failure is.
        if (
          !(
            err instanceof DeviceError &&
            (err.code === 'DEVICE_NOT_CONNECTED' || err.code === 'DEVICE_TIMEOUT')
          )
        )
          throw err;
      }
      if (s && s.grade >= grade) return s;
      if (s?.status === 'expired')
        throw new DeviceError('DEVICE_TX_EXPIRED', 'transaction expired before it was included');
      const left = deadline - this.now();
      if (left <= 0)
        throw new DeviceError('DEVICE_TIMEOUT', `transaction did not reach grade ${grade} in time`);
      await this.nextStateBlockOr(Math.min(poll, left));
    }
  }

  /** Resolves at the next verified state block, or after `ms`, whichever comes first. */
  waitForStateBlock(ms: number): Promise<void> {
    return this.nextStateBlockOr(ms);
  }

  private nextStateBlockOr(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const i = this.stateBlockWaiters.indexOf(done);
        if (i >= 0) this.stateBlockWaiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stateBlockWaiters.push(done);
    });
  }
}

/**
 * A register-device transaction for `owner`, co-signed by the device key; needs no connection (an
 * unregistered device cannot connect: the broker checks the registry), so the device hands it to its owner
 * out of band (`iosnet device cosign-registration`), and the owner adds its signature first and submits.
 */
export function buildRegistrationRequest(
  crypto: Crypto,
  keyStore: DeviceKeyStore,
  o: { chainId: string; owner: Uint8Array; nonce: number; expiry: number; fee: bigint },
): RegistrationRequest {
  const body: TxBody = {
    chainId: o.chainId,
    sender: o.owner,
    nonce: o.nonce,
    expiry: o.expiry,
    fee: o.fee,
    payload: {
      kind: 'registerDevice',
      devicePublicKey: keyStore.publicKey,
      boardId: keyStore.boardId,
      hardwareSerial: keyStore.hardwareSerial,
    },
  };
  const txId = txIdOfBody(crypto, encodeTxBody(body));
  return { body, txId, deviceSignature: keyStore.sign(txId) };
}

export function createLightClient(opts: LightClientOptions): LightClient {
  return new LightClient(opts);
}
