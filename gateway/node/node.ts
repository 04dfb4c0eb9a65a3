/**
 * The one place that builds a gateway (lodestar's BeaconNode.init habit): db -> state -> chain -> mempool
 * -> consensus -> peer network -> API, each from its options and its dependencies, and closes them in the
 * reverse order. Tests and the devnet build nodes through here too, so what they run is what operators run.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { decodeGenesis, type Genesis, genesisHash, validateGenesis } from '../../core/genesis.js';
import { composeEvents } from '../api/events.js';
import { TxGossip } from '../api/gossip.js';
import type { ApiServer } from '../api/interface.js';
import { type ApiOptions, defaultApiOptions } from '../api/options.js';
import { startApiServer } from '../api/server.js';
import { TxTracker } from '../api/tx-tracker.js';
import { LmdbBlockStore } from '../chain/block-store.js';
import { BeaconParticipant } from '../consensus/beacon-participant.js';
import { BeaconState } from '../consensus/beacon-state.js';
import { type ByzantineMode, ConsensusEngine } from '../consensus/engine.js';
import { epochOf } from '../consensus/epochs.js';
import { ConsensusHooks } from '../consensus/hooks.js';
import { type Clock, type ConsensusEvents, systemClock } from '../consensus/interface.js';
import { type ConsensusOptions, defaultConsensusOptions } from '../consensus/options.js';
import { relaySample } from '../consensus/sampling.js';
import { DbSigningGuard } from '../consensus/signing-guard.js';
import { createNativeCrypto } from '../crypto/native.js';
import { DeviceSightings } from '../dashboard/devices.js';
import type { Database } from '../db/interface.js';
import { openDatabase } from '../db/lmdb.js';
import { readKeyFile } from '../keys/keyfile.js';
import { jsonLogger, type Logger } from '../log/logger.js';
import type { Mempool } from '../mempool/interface.js';
import { createMempool } from '../mempool/mempool.js';
import { defaultMempoolOptions } from '../mempool/options.js';
import { defaultMetricsOptions, type MetricsOptions, NodeMetrics } from '../metrics/metrics.js';
import { startMqttBridge } from '../mqtt/bridge.js';
import type { MqttBridge } from '../mqtt/interface.js';
import type { MqttBridgeOptions } from '../mqtt/options.js';
import type { Network } from '../network/interface.js';
import { createTcpNetwork } from '../network/tcp.js';
import { LmdbChainState } from '../state/chain-state.js';
import { bootstrapFromStateBlock } from '../sync/bootstrap.js';
import { SyncServer } from '../sync/server.js';
import { ConfigError, type GatewayConfig, parseEndpoint, parseGatewayConfig } from './config.js';
import { StoredChain } from './finalized-chain.js';

export interface GatewayNode {
  readonly config: GatewayConfig;
  readonly genesis: Genesis;
  readonly genesisHash: Uint8Array;
  readonly crypto: Crypto;
  readonly db: Database;
  readonly state: LmdbChainState;
  readonly store: LmdbBlockStore;
  readonly chain: StoredChain;
  readonly mempool: Mempool;
  readonly consensus: ConsensusEngine;
  readonly hooks: ConsensusHooks;
  readonly network: Network;
  readonly log: Logger;
  readonly metrics: NodeMetrics;
  /** Grades and latencies of transactions (fed by consensus events), for the API. */
  readonly txTracker: TxTracker;
  /** Batches the transactions the API admits into 'txs' messages to the peers. */
  readonly gossip: TxGossip;
  /** Bound ports (useful when the config asked for port 0); mqtt: the embedded broker's, if any. */
  readonly ports: { readonly p2p: number; readonly api: number; readonly mqtt?: number };
  /** The device bridge, when config.mqtt is set. */
  readonly mqtt?: MqttBridge;
  close(): Promise<void>;
}

export interface NodeOverrides {
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly events?: ConsensusEvents;
  /** Test-only misbehaviour (integration tests of slashing); never in a config file. */
  readonly byzantine?: ByzantineMode;
  /** Starts the API server; default: gateway/api's HTTP server on config.api.listen. */
  readonly startApi?: (
    node: Omit<GatewayNode, 'ports' | 'close'>,
    listen: { host: string; port: number },
  ) => Promise<ApiServer>;
  readonly api?: Partial<ApiOptions>;
  readonly metrics?: MetricsOptions;
  /** MQTT bridge options (rate limits, caches, Mosquitto files); used when config.mqtt is set. */
  readonly mqtt?: Partial<MqttBridgeOptions>;
}

export function loadGatewayConfig(path: string): GatewayConfig {
  const text = readFileSync(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('(file)', `${path} is not valid JSON (${(e as Error).message})`);
  }
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.';
  return parseGatewayConfig(json, dir, {
    consensus: defaultConsensusOptions,
    mempool: defaultMempoolOptions,
  });
}

export async function startGatewayNode(
  config: GatewayConfig,
  overrides: NodeOverrides = {},
): Promise<GatewayNode> {
  const log = overrides.log ?? jsonLogger('iosnet:gateway', config.log.level);
  const crypto = createNativeCrypto();
  const genesis = decodeGenesis(new Uint8Array(readFileSync(config.genesis)));
  validateGenesis(crypto, genesis);
  const gHash = genesisHash(crypto, genesis);
  const { key, warning } = readKeyFile(config.key, crypto);
  if (warning) log.warn('key file permissions', { key: config.key, warning });
  if (!key.bls)
    throw new ConfigError(
      'key',
      `${config.key} holds no BLS key: a gateway needs a validator key (iosnet keygen --validator)`,
    );

  // db -> state -> chain -> mempool -> consensus -> network -> api
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase({ path: join(config.dataDir, 'db') });
  const hooks = new ConsensusHooks({ crypto, beacon: new BeaconState(crypto) });
  hooks.setGenesis(genesis);
  const store = new LmdbBlockStore({ archive: config.archive }, { db, crypto });
  const p2p = parseEndpoint(config.p2p.listen, 'p2p.listen');
  const network = createTcpNetwork(
    { listenHost: p2p.host, listenPort: p2p.port, peers: config.p2p.peers },
    {
      crypto,
      nodeSecretKey: key.ed25519.secretKey,
      nodePublicKey: key.ed25519.publicKey,
      chainId: genesis.chainId,
      genesisHash: gHash,
      logger: log.child('network'),
    },
  );
  let p2pPort: number | undefined;
  if (config.bootstrap && store.finalizedHeight === 0 && isEmptyDatabase(db)) {
    // A new or long-crashed validator: start from a peer's latest state block, not from genesis.
    p2pPort = (await network.start()).port;
    await bootstrapFromStateBlock(
      { crypto, genesis, network, db, store, log: log.child('sync') },
      { timeoutMs: 30_000 },
    );
  }
  const state = new LmdbChainState({ archive: config.archive }, { db, crypto, genesis, hooks });
  const chain = new StoredChain({ db, store, state, crypto, genesis, genesisHash: gHash });
  const consensusOptions: ConsensusOptions = { ...defaultConsensusOptions, ...config.consensus };
  const mempool = createMempool(config.mempool, {
    crypto,
    chainId: genesis.chainId,
    // A peer that relays a forged transaction is dropped (the same as for any other invalid message).
    onForged: (peer) => network.penalize(peer, 'relayed a forged transaction'),
    // docs/consensus.md §5: relayed transactions are checked on admission with probability sampleFraction.
    relaySample: relaySample(crypto, consensusOptions.sampleFraction, crypto.randomBytes(32)),
  });
  const clock = overrides.clock ?? systemClock;
  const apiOptions: ApiOptions = { ...defaultApiOptions, ...overrides.api };
  const metrics = new NodeMetrics(overrides.metrics ?? defaultMetricsOptions);
  const txTracker = new TxTracker(apiOptions, {
    now: () => clock.now(),
    onGrade: (grade, seconds) => metrics.observeGrade(grade, seconds),
  });
  const gossip = new TxGossip(apiOptions, { network });
  const deviceSightings = new DeviceSightings();
  // The MQTT bridge starts last; until then (and after it closes) state blocks are not announced.
  let mqtt: MqttBridge | undefined;
  const mqttEvents: ConsensusEvents = {
    finalized: ({ stateBlock }) => {
      // After the finalizing transaction committed (the event fires inside consensus's step).
      if (stateBlock && mqtt) setImmediate(() => mqtt?.announce(stateBlock.index));
    },
  };
  const events = composeEvents(txTracker.events, metrics.events, mqttEvents, overrides.events);
  const participant: BeaconParticipant = new BeaconParticipant({
    crypto,
    params: genesis.params,
    nodeSecretKey: key.ed25519.secretKey,
    nodePublicKey: key.ed25519.publicKey,
    committeeOf: (st, epoch) => hooks.committee(st, epoch),
    submit: (payload) => consensus.submitOwnTx(payload),
    broadcastPartials: (epoch, bytes) => network.broadcast({ type: 'beaconPartial', epoch, bytes }),
    log: log.child('beacon'),
  });
  const consensusNetwork = network;
  const consensus = new ConsensusEngine(consensusOptions, {
    crypto,
    genesis,
    genesisHash: gHash,
    state,
    chain,
    mempool,
    network: consensusNetwork,
    hooks,
    guard: new DbSigningGuard(db),
    keys: {
      nodeSecretKey: key.ed25519.secretKey,
      nodePublicKey: key.ed25519.publicKey,
      blsSecretKey: key.bls.secretKey,
      blsPublicKey: key.bls.publicKey,
    },
    clock,
    log: log.child('consensus'),
    beacon: {
      onFinalized: (st, height) => participant.onFinalized(st, height),
      onPartials: (st, epoch, bytes) => participant.onPartials(st, epoch, bytes),
    },
    events,
    ...(overrides.byzantine ? { byzantine: overrides.byzantine } : {}),
  });
  metrics.bind({
    height: () => consensus.height,
    finalizedHeight: () => chain.height,
    view: () => consensus.view,
    epoch: () => epochOf(consensus.height, genesis.params),
    stateBlocks: () => (store.latestStateBlock()?.index ?? -1) + 1,
    mempool: () => ({ size: mempool.size, bytes: mempool.bytes }),
    peers: () => network.peers().length,
  });
  // One consumer of peer messages: sync requests to the sync server, everything else to consensus.
  const sync = new SyncServer({ network, store, state });
  consensusNetwork.onMessage((from, m) => {
    if (!sync.handle(from, m)) consensus.onMessage(from, m);
  });
  p2pPort ??= (await network.start()).port;
  consensus.start();
  const partial = {
    config,
    genesis,
    genesisHash: gHash,
    crypto,
    db,
    state,
    store,
    chain,
    mempool,
    consensus,
    hooks,
    network,
    log,
    metrics,
    txTracker,
    gossip,
    deviceSightings,
  };
  const apiListen = parseEndpoint(config.api.listen, 'api.listen');
  const startApi = overrides.startApi ?? ((node, listen) => startApiServer(node, listen, apiOptions));
  /** Stops what runs below the API, in reverse order of construction: gossip -> network -> consensus -> state -> db. */
  const stopBelowApi = async () => {
    gossip.close();
    await network.stop();
    consensus.stop();
    await state.close();
    await db.close();
  };
  let api: ApiServer;
  try {
    api = await startApi(partial, apiListen);
  } catch (e) {
    // The API port is taken (or similar): undo what was started, then report.
    await stopBelowApi();
    throw e;
  }
  if (config.mqtt) {
    try {
      const { passwordFile, aclFile, pidFile } = config.mqtt;
      const files =
        passwordFile && aclFile
          ? { mosquitto: { passwordFile, aclFile, ...(pidFile ? { pidFile } : {}) } }
          : {};
      mqtt = await startMqttBridge(
        config.mqtt,
        { ...files, ...overrides.mqtt },
        {
          node: partial,
          nodeId: toHex(key.ed25519.publicKey),
          onDeviceRequest: (deviceHex, payload, now) => deviceSightings.seen(deviceHex, payload, now),
        },
      );
    } catch (e) {
      await api.close();
      await stopBelowApi();
      throw e;
    }
  }
  log.info('gateway started', {
    chainId: genesis.chainId,
    genesis: toHex(gHash),
    height: chain.height,
    p2p: p2pPort,
    api: api.port,
    mqtt: mqtt?.port ?? config.mqtt?.url,
    node: toHex(key.ed25519.publicKey),
  });
  let closed = false;
  return {
    ...partial,
    ports: { p2p: p2pPort, api: api.port, ...(mqtt?.port !== undefined ? { mqtt: mqtt.port } : {}) },
    ...(mqtt ? { mqtt } : {}),
    async close() {
      if (closed) return;
      closed = true;
      // Reverse of construction: mqtt -> api (and its gossip) -> network -> consensus -> (mempool) -> state -> db.
      const bridge = mqtt;
      mqtt = undefined;
      await bridge?.close();
      await api.close();
      await stopBelowApi();
      log.info('gateway stopped', { height: chain.height });
    },
  };
}

/** No state and no blocks yet: the data directory was just created. */
function isEmptyDatabase(db: Database): boolean {
  for (const _ of db.bucket('meta').keys({ limit: 1 })) return false;
  return true;
}
