/**
 * Answers device requests (docs/protocol.md §16.2) from the node's chain and state, with the same queries
 * as the HTTP API (gateway/api/queries.ts). Transport-free: bytes in, bytes out (or nothing: dropped), so
 * the embedded and the external broker share it. Never throws on device input: anything malformed becomes
 * an Error response; anything unexpected is logged and answered `unavailable`.
 */
import { toHex } from '../../core/bytes.js';
import {
  type DeviceErrorName,
  type DeviceRequest,
  type DeviceResponse,
  decodeDeviceRequest,
  encodeDeviceResponse,
  MAX_DEVICE_REQUEST_BYTES,
  peekRequestId,
} from '../../core/device-protocol.js';
import { IosnetError } from '../../core/errors.js';
import type { StateProof } from '../../core/proofs.js';
import type { StateBlock } from '../../core/state-block.js';
import { ApiError } from '../api/errors.js';
import { admitTx, proveAtLatestStateBlock, stateBlocksFrom, txStatusOf } from '../api/queries.js';
import { TokenBucket } from '../network/rate-limit.js';
import type { MqttNode, MqttRefusalReason } from './interface.js';
import type { MqttBridgeOptions } from './options.js';

interface DeviceRate {
  readonly bucket: TokenBucket;
  /** Last time a rateLimited error was sent: at most one per second, the rest are dropped. */
  lastRefusal: number;
}

/** A Map in insertion order used as an LRU: get() moves the entry to the back. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }
  get size(): number {
    return this.map.size;
  }
}

export class DeviceRequestService {
  private readonly rates: Lru<DeviceRate>;
  private readonly proofs: Lru<{ stateBlock: StateBlock; proof: StateProof }>;
  private proofHits = 0;

  constructor(
    private readonly opts: MqttBridgeOptions,
    private readonly deps: {
      readonly node: MqttNode;
      readonly now: () => number;
      readonly refuse: (reason: MqttRefusalReason) => void;
    },
  ) {
    this.rates = new Lru(opts.maxTrackedDevices);
    this.proofs = new Lru(opts.proofCacheSize);
  }

  /** The response to one request of `deviceHex` (an authenticated device), or undefined to drop it. */
  handle(deviceHex: string, payload: Uint8Array): Uint8Array | undefined {
    if (!this.admit(deviceHex)) {
      this.deps.refuse('rate_limited');
      const rate = this.rates.get(deviceHex)!;
      const now = this.deps.now();
      if (now - rate.lastRefusal < 1000) return undefined;
      rate.lastRefusal = now;
      return this.error(peekRequestId(payload), 'rateLimited', 'RATE_LIMITED: too many requests');
    }
    if (payload.length > MAX_DEVICE_REQUEST_BYTES) {
      this.deps.refuse('malformed_request');
      this.deps.node.metrics.observeMqttRequest('malformed');
      return this.error(peekRequestId(payload), 'tooLarge', `request over ${MAX_DEVICE_REQUEST_BYTES} bytes`);
    }
    let request: DeviceRequest;
    try {
      request = decodeDeviceRequest(payload);
    } catch (e) {
      this.deps.refuse('malformed_request');
      this.deps.node.metrics.observeMqttRequest('malformed');
      const code = e instanceof IosnetError ? e.code : 'DECODE_FAILED';
      const unsupported = code === 'DECODE_UNKNOWN_VERSION' || code === 'DECODE_UNKNOWN_TYPE';
      return this.error(peekRequestId(payload), unsupported ? 'unsupported' : 'badRequest', detailOf(e));
    }
    this.deps.node.metrics.observeMqttRequest(request.kind);
    try {
      return encodeDeviceResponse(this.answer(request));
    } catch (e) {
      return this.error(request.requestId, ...this.classify(e));
    }
  }

  private admit(deviceHex: string): boolean {
    const now = this.deps.now();
    let rate = this.rates.get(deviceHex);
    if (!rate) {
      rate = {
        bucket: new TokenBucket(this.opts.requestsPerSecond, this.opts.requestBurst, now),
        lastRefusal: 0,
      };
      this.rates.set(deviceHex, rate);
    }
    return rate.bucket.take(1, now);
  }

  private answer(m: DeviceRequest): DeviceResponse {
    const { node } = this.deps;
    switch (m.kind) {
      case 'getStateBlocks': {
        const { latestIndex, items } = stateBlocksFrom(node, m.fromIndex, {
          maxSteps: m.limit,
          maxBytes: this.opts.maxStateBlocksResponseBytes,
          sparse: m.sparse,
        });
        return { kind: 'stateBlocks', requestId: m.requestId, latestIndex, items };
      }
      case 'proveRecord': {
        const latest = node.store.latestStateBlock();
        const key = latest ? `${toHex(latest.stateRoot)}/${m.namespace}/${toHex(m.id)}` : '';
        let hit = latest ? this.proofs.get(key) : undefined;
        if (hit) this.proofHits++;
        else {
          hit = proveAtLatestStateBlock(node, m.namespace, m.id);
          this.proofs.set(key, hit);
        }
        return { kind: 'recordProof', requestId: m.requestId, stateBlock: hit.stateBlock, proof: hit.proof };
      }
      case 'submitTx': {
        const { id } = admitTx(node, m.tx);
        return { kind: 'txAccepted', requestId: m.requestId, txId: id };
      }
      case 'getTxStatus': {
        const info = txStatusOf(node, m.txId);
        const proof = info.status === 'grade1' || info.status === 'grade2' ? info.proof : null;
        return { kind: 'txStatus', requestId: m.requestId, txId: m.txId, status: info.status, proof };
      }
    }
  }

  private classify(e: unknown): [DeviceErrorName, string] {
    if (e instanceof ApiError) {
      if (e.code === 'NOT_YET_AVAILABLE') return ['notYetAvailable', detailOf(e)];
      if (e.code === 'NOT_FOUND') return ['notFound', detailOf(e)];
      return ['unavailable', detailOf(e)];
    }
    if (e instanceof IosnetError) {
      if (e.code === 'STATE_HEIGHT_NOT_RETAINED') return ['unavailable', detailOf(e)];
      if (/^(MEMPOOL|TX|VERIFY|DECODE|AMOUNT|ARGUMENT)_/.test(e.code)) return ['txRefused', detailOf(e)];
      return ['unavailable', detailOf(e)];
    }
    this.deps.node.log.error('mqtt request failed', { error: e instanceof Error ? e.message : String(e) });
    return ['unavailable', 'internal error (see the gateway log)'];
  }

  private error(requestId: number, code: DeviceErrorName, detail: string): Uint8Array {
    return encodeDeviceResponse({ kind: 'error', requestId, code, detail });
  }

  /** Proofs answered from the cache since start (tests and the status page). */
  get proofCacheHits(): number {
    return this.proofHits;
  }
}

function detailOf(e: unknown): string {
  return e instanceof IosnetError ? `${e.code}: ${e.message}` : 'DECODE_FAILED';
}
