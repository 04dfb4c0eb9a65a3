/**
 * The gateway's MQTT bridge (docs/protocol.md §16): the embedded aedes broker by default, or a client of an
 * external broker (mqtt.url), serving device requests from the node's chain and state and announcing each
 * new state block once, retained, on its shard's announcement topic.
 */

import { announcementTopic, encodeStateBlockAnnouncement } from '../../core/device-protocol.js';
import type { IosnetError } from '../../core/errors.js';
import type { StateBlock } from '../../core/state-block.js';
import { stateBlockIdOf } from '../../core/state-block.js';
import { nextCommitteeOf } from '../api/queries.js';
import { parseEndpoint } from '../node/config.js';
import { DeviceAuthenticator } from './auth.js';
import { startEmbeddedBroker } from './embedded.js';
import { connectExternalBroker } from './external.js';
import type { MqttBridge, MqttNode, MqttRefusalReason } from './interface.js';
import { defaultMqttBridgeOptions, type MqttBridgeOptions } from './options.js';
import { DeviceRequestService } from './service.js';

export interface MqttBridgeConfig {
  readonly listen?: string;
  readonly url?: string;
  readonly username?: string;
  readonly password?: string;
}

export async function startMqttBridge(
  config: MqttBridgeConfig,
  options: Partial<MqttBridgeOptions>,
  deps: {
    readonly node: MqttNode;
    /** The gateway's node public key hex: the default token audience with the embedded broker. */
    readonly nodeId: string;
    readonly now?: () => number;
    /** Every request of an authenticated device, before it is served (the dashboard's "last seen"). */
    readonly onDeviceRequest?: (deviceHex: string, payload: Uint8Array, now: number) => void;
  },
): Promise<MqttBridge> {
  const opts: MqttBridgeOptions = { ...defaultMqttBridgeOptions, ...options };
  const { node } = deps;
  const now = deps.now ?? Date.now;
  const chainId = node.genesis.chainId;
  const log = node.log.child('mqtt');
  const audience = opts.audience ?? (config.url ? new URL(config.url).host : deps.nodeId);
  const auth = new DeviceAuthenticator(
    { chainId, audience, maxNonces: opts.maxRememberedNonces },
    { crypto: node.crypto, state: node.state, now },
  );
  const refuse = (reason: MqttRefusalReason, error?: IosnetError) => {
    node.metrics.observeMqttRefusal(reason);
    if (error) log.debug('mqtt refused', { reason, code: error.code, error: error.message });
  };
  const service = new DeviceRequestService(opts, { node, now, refuse: (r) => refuse(r) });
  const onRequest = (deviceHex: string, payload: Uint8Array) => {
    deps.onDeviceRequest?.(deviceHex, payload, now());
    return service.handle(deviceHex, payload);
  };

  let publish: (topic: string, payload: Uint8Array, retain: boolean) => void;
  let port: number | undefined;
  let connectedDevices: () => number;
  let closeTransport: () => Promise<void>;
  if (config.url) {
    const link = await connectExternalBroker(
      {
        url: config.url,
        ...(config.username ? { username: config.username } : {}),
        ...(config.password ? { password: config.password } : {}),
        ...(opts.mosquitto ? { mosquitto: opts.mosquitto } : {}),
        enrolmentsPerSecond: opts.enrolmentsPerSecond,
        credentialLifetimeMs: opts.externalCredentialLifetimeMs,
      },
      {
        chainId,
        auth,
        registered: (id) => node.state.getDevice(id) !== undefined,
        onRequest,
        refuse,
        now,
        log,
      },
    );
    publish = link.publish;
    connectedDevices = link.liveCredentials;
    closeTransport = link.close;
  } else {
    const listen = parseEndpoint(config.listen, 'mqtt.listen');
    const broker = await startEmbeddedBroker(listen, { chainId, auth, onRequest, refuse, log });
    publish = broker.publish;
    port = broker.port;
    connectedDevices = broker.connectedDevices;
    closeTransport = broker.close;
  }
  // Tokens expire within 10 minutes: forget their nonces once they cannot be replayed anyway.
  const pruneTimer = setInterval(() => auth.prune(), 30_000);
  pruneTimer.unref();
  node.metrics.bindMqtt(connectedDevices);

  let lastAnnounced = -1;
  const bridge: MqttBridge = {
    port,
    connectedDevices,
    announce(index?: number) {
      const sb: StateBlock | undefined =
        index === undefined ? node.store.latestStateBlock() : node.store.getStateBlock(index);
      if (!sb || sb.index <= lastAnnounced) return;
      try {
        const bytes = encodeStateBlockAnnouncement({
          stateBlock: sb,
          id: stateBlockIdOf(node.crypto, sb),
          nextCommittee: nextCommitteeOf(node, sb),
        });
        lastAnnounced = sb.index;
        publish(announcementTopic(chainId, sb.shard), bytes, true);
      } catch (e) {
        log.warn('mqtt: cannot announce state block', { index: sb.index, error: (e as Error).message });
      }
    },
    async close() {
      clearInterval(pruneTimer);
      await closeTransport();
    },
  };
  // A device that connects before the next state block gets the latest at once (retained).
  bridge.announce();
  log.info('mqtt bridge started', { mode: config.url ? 'external' : 'embedded', port, audience });
  return bridge;
}
