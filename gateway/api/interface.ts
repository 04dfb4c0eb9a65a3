/** What the API reads and drives: the node's parts it uses, nothing more (tests build it from a real node). */
import type { Crypto } from '../../core/crypto.js';
import type { Genesis } from '../../core/genesis.js';
import type { BlockStore } from '../chain/interface.js';
import type { ConsensusHooks } from '../consensus/hooks.js';
import type { DeviceSightings } from '../dashboard/devices.js';
import type { Logger } from '../log/logger.js';
import type { Mempool } from '../mempool/interface.js';
import type { NodeMetrics } from '../metrics/metrics.js';
import type { Network } from '../network/interface.js';
import type { ChainState } from '../state/interface.js';
import type { TxGossip } from './gossip.js';
import type { TxTracker } from './tx-tracker.js';

export interface ApiNode {
  readonly genesis: Genesis;
  readonly genesisHash: Uint8Array;
  readonly crypto: Crypto;
  readonly state: ChainState;
  readonly store: BlockStore;
  readonly mempool: Mempool;
  readonly consensus: { readonly height: number; readonly view: number };
  readonly hooks: Pick<ConsensusHooks, 'committee'>;
  readonly network: Pick<Network, 'peerId' | 'peers'>;
  readonly log: Logger;
  readonly metrics: NodeMetrics;
  readonly txTracker: TxTracker;
  readonly gossip: TxGossip;
  /** What the MQTT bridge saw of each device (last request, sync progress), for the dashboard. */
  readonly deviceSightings?: DeviceSightings;
}

export interface ApiServer {
  readonly port: number;
  close(): Promise<void>;
}
