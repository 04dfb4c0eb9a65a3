/**
 * Typed requests to a gateway over any Transport (core/device-protocol.ts messages): one method per
 * request kind, answers decoded strictly and matched by request id and kind. This layer checks FORM
 * only; what an answer proves is checked by the client against its verified head.
 */
import {
  type DeviceResponse,
  decodeDeviceResponse,
  decodeStateBlockAnnouncement,
  encodeDeviceRequest,
  MAX_STATE_BLOCK_STEPS,
  peekRequestId,
  type RecordProof,
  type StateBlockAnnouncement,
  type StateBlocks,
  type TxAccepted,
  type TxStatus,
} from '../core/device-protocol.js';
import { IosnetError } from '../core/errors.js';
import type { StateNamespaceName } from '../core/state.js';
import { DeviceError } from './errors.js';
import type { Transport } from './transport/interface.js';
import { RequestTracker, type RequestTrackerOptions } from './transport/requests.js';

export interface GatewayLinkHandlers {
  onAnnouncement(a: StateBlockAnnouncement): void;
  onStatus(status: 'up' | 'down', detail?: Error): void;
  /** A message that does not decode (counted, reported, otherwise ignored). */
  onMalformed(err: Error): void;
}

type Answer = DeviceResponse;

export class GatewayLink {
  private readonly tracker: RequestTracker<Answer>;

  constructor(
    readonly transport: Transport,
    opts: RequestTrackerOptions,
    private readonly handlers: GatewayLinkHandlers,
  ) {
    this.tracker = new RequestTracker<Answer>(opts);
  }

  get pendingRequests(): number {
    return this.tracker.size;
  }

  start(): Promise<void> {
    return this.transport.start({
      onMessage: (channel, bytes) => {
        if (channel === 'announcement') this.onAnnouncementBytes(bytes);
        else this.onResponseBytes(bytes);
      },
      onStatus: (status, detail) => {
        // Requests sent on a dropped link will not be answered on the new one (clean session).
        if (status === 'down')
          this.tracker.rejectAll(new DeviceError('DEVICE_NOT_CONNECTED', 'link to the gateway dropped'));
        this.handlers.onStatus(status, detail);
      },
    });
  }

  async close(): Promise<void> {
    this.tracker.rejectAll(new DeviceError('DEVICE_CLOSED', 'light client closed'));
    await this.transport.close();
  }

  async getStateBlocks(
    fromIndex: number,
    sparse = true,
    limit = MAX_STATE_BLOCK_STEPS,
  ): Promise<StateBlocks> {
    return this.call('stateBlocks', (requestId) => ({
      kind: 'getStateBlocks',
      requestId,
      fromIndex,
      limit,
      sparse,
    }));
  }

  async proveRecord(namespace: StateNamespaceName, id: Uint8Array): Promise<RecordProof> {
    return this.call('recordProof', (requestId) => ({ kind: 'proveRecord', requestId, namespace, id }));
  }

  async submitTx(tx: Uint8Array): Promise<TxAccepted> {
    return this.call('txAccepted', (requestId) => ({ kind: 'submitTx', requestId, tx }));
  }

  async getTxStatus(txId: Uint8Array): Promise<TxStatus> {
    return this.call('txStatus', (requestId) => ({ kind: 'getTxStatus', requestId, txId }));
  }

  private async call<K extends Answer['kind']>(
    expect: K,
    build: (requestId: number) => Parameters<typeof encodeDeviceRequest>[0],
  ): Promise<Extract<Answer, { kind: K }>> {
    const answer = await this.tracker.request(
      (id) => this.transport.send(encodeDeviceRequest(build(id))),
      expect,
    );
    if (answer.kind === 'error') {
      const code = answer.code === 'txRefused' ? 'DEVICE_TX_REJECTED' : 'DEVICE_GATEWAY_REFUSED';
      throw new DeviceError(
        code,
        `gateway refused: ${answer.code}${answer.detail ? ` (${answer.detail})` : ''}`,
        {
          gatewayCode: answer.code,
          detail: answer.detail,
        },
      );
    }
    if (answer.kind !== expect) {
      throw new DeviceError(
        'DEVICE_MALFORMED_RESPONSE',
        `expected ${expect}, gateway answered ${answer.kind}`,
      );
    }
    return answer as Extract<Answer, { kind: K }>;
  }

  private onResponseBytes(bytes: Uint8Array): void {
    let response: DeviceResponse;
    try {
      response = decodeDeviceResponse(bytes);
    } catch (err) {
      // Fail the request it answers, if its id is readable, so the caller hears of it before its timeout.
      const rid = peekRequestId(bytes);
      const error = new DeviceError(
        'DEVICE_MALFORMED_RESPONSE',
        `response does not decode: ${(err as Error).message}`,
        {
          ...(err instanceof IosnetError ? { cause: err.code } : {}),
        },
      );
      if (rid === 0 || !this.tracker.reject(rid, error)) this.handlers.onMalformed(error);
      return;
    }
    this.tracker.resolve(response.requestId, response);
  }

  private onAnnouncementBytes(bytes: Uint8Array): void {
    let a: StateBlockAnnouncement;
    try {
      a = decodeStateBlockAnnouncement(bytes);
    } catch (err) {
      this.handlers.onMalformed(
        new DeviceError('DEVICE_MALFORMED_RESPONSE', `announcement does not decode (${bytes.length} bytes)`, {
          ...(err instanceof IosnetError ? { cause: err.code } : {}),
        }),
      );
      return;
    }
    this.handlers.onAnnouncement(a);
  }
}
