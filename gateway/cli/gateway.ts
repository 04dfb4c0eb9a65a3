/**
 * `iosnet gateway init` (a validator key and a config file for a new gateway) and `iosnet gateway start`
 * (runs one in the foreground until SIGINT/SIGTERM, then closes it cleanly and exits 0).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { equalBytes, toHex } from '../../core/bytes.js';
import { decodeGenesis } from '../../core/genesis.js';
import type { ByzantineMode } from '../consensus/engine.js';
import { defaultConsensusOptions } from '../consensus/options.js';
import { writeNewFile } from '../keys/files.js';
import { generateKeyFile, writeKeyFile } from '../keys/keyfile.js';
import { defaultMempoolOptions } from '../mempool/options.js';
import { type GatewayConfig, parseEndpoint, parseGatewayConfig } from '../node/config.js';
import { loadGatewayConfig, startGatewayNode } from '../node/node.js';
import { defineCommand, printJson, requireOption, UsageError } from './command.js';
import { cliCrypto } from './crypto.js';

const INIT_USAGE = `usage: iosnet gateway init --dir DIR --genesis FILE [--listen HOST:PORT] [--api HOST:PORT]
                           [--peer HOST:PORT]... [--json]

Creates DIR/validator.key.json (Ed25519 node key + BLS validator key, mode 0600) and DIR/gateway.config.json
(data in DIR/data). Prints the public keys and what the genesis needs for this validator. Refuses to
replace existing files.

options:
  --dir DIR            the gateway's directory (created if missing)
  --genesis FILE       the chain's genesis (may not exist yet: a new chain's genesis lists its validators)
  --listen HOST:PORT   peer-to-peer address, also what peers dial (default 127.0.0.1:7400)
  --api HOST:PORT      HTTP API address (default 127.0.0.1:8400)
  --peer HOST:PORT     a peer to dial (repeatable)
  --json               print one JSON object
  -h, --help           show this help`;

export const initCommand = defineCommand({
  usage: INIT_USAGE,
  options: {
    dir: { type: 'string' },
    genesis: { type: 'string' },
    listen: { type: 'string' },
    api: { type: 'string' },
    peer: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  run({ values }) {
    const dir = resolve(requireOption(values.dir, 'dir'));
    const genesisPath = resolve(requireOption(values.genesis, 'genesis'));
    const listen = values.listen ?? '127.0.0.1:7400';
    const api = values.api ?? '127.0.0.1:8400';
    const peers = values.peer ?? [];
    parseEndpoint(listen, '--listen');
    parseEndpoint(api, '--api');
    for (const p of peers) parseEndpoint(p, '--peer');
    const keyPath = join(dir, 'validator.key.json');
    const configPath = join(dir, 'gateway.config.json');
    for (const p of [keyPath, configPath]) {
      if (existsSync(p)) throw new UsageError(`${p} exists: choose another --dir (nothing was written)`);
    }
    const config = {
      dataDir: 'data',
      genesis: genesisPath,
      key: 'validator.key.json',
      p2p: { listen, peers },
      api: { listen: api },
      log: { level: 'info' },
    };
    // The same strict parse the node runs at start: a config written here always loads.
    parseGatewayConfig(config, dir, { consensus: defaultConsensusOptions, mempool: defaultMempoolOptions });
    const crypto = cliCrypto();
    const key = generateKeyFile(crypto, { validator: true });
    mkdirSync(dir, { recursive: true });
    writeKeyFile(keyPath, key, { force: false });
    writeNewFile(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644, force: false });

    let inGenesis: boolean | null = null;
    if (existsSync(genesisPath)) {
      const g = decodeGenesis(new Uint8Array(readFileSync(genesisPath)));
      inGenesis = g.validators.some((v) => equalBytes(v.nodePublicKey, key.ed25519.publicKey));
    }
    const summary = {
      key: keyPath,
      config: configPath,
      address: toHex(key.address),
      publicKey: toHex(key.ed25519.publicKey),
      blsPublicKey: toHex(key.bls!.publicKey),
      blsPop: toHex(key.bls!.pop),
      endpoint: listen,
      genesis: genesisPath,
      inGenesis,
      genesisArgument: `--validator ${keyPath}@${listen}`,
    };
    if (values.json) return printJson(summary);
    console.log(`wrote ${keyPath} (mode 0600)`);
    console.log(`wrote ${configPath}`);
    console.log(`address         ${summary.address}`);
    console.log(`ed25519 pubkey  ${summary.publicKey}`);
    console.log(`bls pubkey      ${summary.blsPublicKey}`);
    console.log(`bls pop         ${summary.blsPop}`);
    console.log('');
    if (inGenesis) {
      console.log(`${genesisPath} lists this validator: start it with`);
    } else {
      console.log(
        inGenesis === false
          ? `${genesisPath} does not list this validator. A new chain's genesis needs, for it:`
          : `${genesisPath} does not exist yet. Its builder adds this validator with:`,
      );
      console.log(`  iosnet genesis --out ${genesisPath} ${summary.genesisArgument} ...`);
      console.log(
        '(its account is the address above and must have at least minValidatorStake staked); then start it with',
      );
    }
    console.log(`  iosnet gateway start --config ${configPath}`);
  },
});

const START_USAGE = `usage: iosnet gateway start --config FILE [--mqtt-listen HOST:PORT | --mqtt-url URL]

Runs a gateway in the foreground: consensus, peer network and the HTTP API (docs/api.md), with JSON log
lines on stderr. SIGINT or SIGTERM closes it cleanly (exit 0).

options:
  --config FILE            the gateway's config (from 'iosnet gateway init' or 'iosnet devnet')
  --mqtt-listen HOST:PORT  device bridge: run the embedded MQTT broker there (overrides config mqtt)
  --mqtt-url URL           device bridge: serve devices through an external broker, mqtt://host:port
                           (overrides config mqtt; credentials from config mqtt.username/password)
  -h, --help               show this help`;

const BYZANTINE_MODES: readonly ByzantineMode[] = ['equivocate', 'invalid-block', 'withhold-votes'];
/** How long a clean shutdown may take before a second signal (or this timer) forces the exit. */
const CLOSE_TIMEOUT_MS = 10_000;

export const startCommand = defineCommand({
  usage: START_USAGE,
  options: {
    config: { type: 'string' },
    'mqtt-listen': { type: 'string' },
    'mqtt-url': { type: 'string' },
    // Test-only misbehaviour (slashing tests): absent from --help, refused outside IOSNET_TEST_MODE=1.
    byzantine: { type: 'string' },
  },
  async run({ values }) {
    let byzantine: ByzantineMode | undefined;
    if (values.byzantine !== undefined) {
      if (process.env.IOSNET_TEST_MODE !== '1') throw new UsageError("unknown option '--byzantine'");
      if (!BYZANTINE_MODES.includes(values.byzantine as ByzantineMode)) {
        throw new UsageError(`--byzantine must be one of ${BYZANTINE_MODES.join(', ')}`);
      }
      byzantine = values.byzantine as ByzantineMode;
    }
    const configPath = requireOption(values.config, 'config');
    const config = withMqttOverride(loadGatewayConfig(configPath), values['mqtt-listen'], values['mqtt-url']);
    const node = await startGatewayNode(config, byzantine ? { byzantine } : {});
    const mqtt = config.mqtt?.url
      ? `, mqtt via ${config.mqtt.url}`
      : node.ports.mqtt !== undefined
        ? `, mqtt ${config.mqtt!.listen!.replace(/:\d+$/, `:${node.ports.mqtt}`)}`
        : '';
    const api = `http://${config.api.listen.replace(/:\d+$/, `:${node.ports.api}`)}`;
    console.log(
      `gateway running: p2p ${config.p2p.listen.replace(/:\d+$/, `:${node.ports.p2p}`)}, api ${api}${mqtt}, dashboard ${api}/`,
    );
    await new Promise<void>((done) => {
      let stopping = false;
      const stop = (why: string) => {
        if (stopping) {
          // A second signal: the operator does not want to wait.
          process.exit(1);
        }
        stopping = true;
        node.log.info('stopping', { why });
        setTimeout(() => {
          node.log.error('close timed out', { ms: CLOSE_TIMEOUT_MS });
          process.exit(1);
        }, CLOSE_TIMEOUT_MS).unref();
        node.close().then(done, (e: unknown) => {
          node.log.error('close failed', { error: e instanceof Error ? e.message : String(e) });
          process.exit(1);
        });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      // Started by `iosnet devnet` with an IPC channel: when the parent dies (even by SIGKILL) the channel
      // closes, and the gateway goes with it rather than living on as an orphan.
      if (process.channel) {
        process.on('disconnect', () => stop('parent exited'));
        process.channel.unref();
      }
    });
    // Timers of libraries (prom-client's default metrics) must not keep a stopped gateway alive.
    process.exit(0);
  },
});

/** --mqtt-listen / --mqtt-url replace the config's mqtt mode (keeping its credentials and broker files). */
export function withMqttOverride(config: GatewayConfig, listen?: string, url?: string): GatewayConfig {
  if (listen !== undefined && url !== undefined) {
    throw new UsageError('give at most one of --mqtt-listen and --mqtt-url');
  }
  if (listen !== undefined) {
    parseEndpoint(listen, '--mqtt-listen');
    const { url: _url, ...rest } = config.mqtt ?? {};
    return { ...config, mqtt: { ...rest, listen } };
  }
  if (url !== undefined) {
    if (!/^mqtts?:\/\/\S+$/.test(url)) throw new UsageError('--mqtt-url: expected mqtt://host:port');
    const { listen: _listen, ...rest } = config.mqtt ?? {};
    return { ...config, mqtt: { ...rest, url } };
  }
  return config;
}
