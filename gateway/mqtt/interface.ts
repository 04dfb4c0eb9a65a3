/** Contracts of the MQTT bridge: what it reads from the node, what it offers, its typed errors. */
import { IosnetError } from '../../core/errors.js';
import type { ApiNode } from '../api/interface.js';

/** The node's parts the bridge reads and drives (the same the HTTP API uses). */
export type MqttNode = Pick<
  ApiNode,
  'genesis' | 'crypto' | 'state' | 'store' | 'mempool' | 'txTracker' | 'gossip' | 'log' | 'metrics'
>;

export type MqttAuthErrorCode =
  | 'MQTT_AUTH_MALFORMED'
  | 'MQTT_AUTH_USERNAME_MISMATCH'
  | 'MQTT_AUTH_WRONG_AUDIENCE'
  | 'MQTT_AUTH_UNREGISTERED'
  | 'MQTT_AUTH_EXPIRED'
  | 'MQTT_AUTH_BAD_SIGNATURE'
  | 'MQTT_AUTH_REPLAYED'
  | 'MQTT_AUTH_BUSY';

/** A refused CONNECT (or enrolment): the broker answers "not authorized" and nothing changes. */
export class MqttAuthError extends IosnetError<MqttAuthErrorCode> {}

export type MqttAccessErrorCode = 'MQTT_FORBIDDEN_PUBLISH' | 'MQTT_FORBIDDEN_SUBSCRIBE';

/** A device publishing or subscribing outside its own topics. */
export class MqttAccessError extends IosnetError<MqttAccessErrorCode> {}

/** Refusal reasons counted in iosnet_mqtt_refusals_total (bounded label values). */
export type MqttRefusalReason =
  | 'malformed_token'
  | 'username_mismatch'
  | 'wrong_audience'
  | 'unregistered'
  | 'expired'
  | 'bad_signature'
  | 'replayed'
  | 'busy'
  | 'forbidden_publish'
  | 'forbidden_subscribe'
  | 'rate_limited'
  | 'malformed_request';

export interface MqttBridge {
  /** Bound port of the embedded broker (undefined with an external broker). */
  readonly port: number | undefined;
  /** Devices connected now (embedded) or with a live broker credential (external). */
  connectedDevices(): number;
  /** Publishes a finalized state block on the retained announcement topic (once per topic). */
  announce(stateBlockIndex?: number): void;
  close(): Promise<void>;
}
