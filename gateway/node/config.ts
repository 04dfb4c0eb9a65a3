/**
 * A gateway's config file (JSON; docs/operator.md lists every field). Parsed strictly: an unknown field, a
 * wrong type or a bad address is a ConfigError naming the field, and the node does not start.
 */
import { IosnetError } from '../../core/errors.js';
import type { ConsensusOptions } from '../consensus/options.js';
import type { MempoolOptions } from '../mempool/options.js';

export class ConfigError extends IosnetError<'CONFIG_INVALID'> {
  constructor(field: string, reason: string) {
    super('CONFIG_INVALID', `config ${field}: ${reason}`, { field, reason });
  }
}

export interface GatewayConfig {
  /** Where the node keeps its database (created if missing). */
  readonly dataDir: string;
  /** The chain's genesis (canonical CBOR, from `iosnet genesis`). */
  readonly genesis: string;
  /** The validator's key file (from `iosnet keygen --validator`), mode 0600. */
  readonly key: string;
  readonly p2p: { readonly listen: string; readonly peers: readonly string[] };
  readonly api: { readonly listen: string };
  /** Device bridge: an embedded broker (listen) or an external one (url). Absent: no bridge. */
  readonly mqtt?: {
    readonly listen?: string;
    readonly url?: string;
    readonly username?: string;
    readonly password?: string;
    /** External Mosquitto only: the files the gateway keeps in step with the device registry (§16.4). */
    readonly passwordFile?: string;
    readonly aclFile?: string;
    readonly pidFile?: string;
  };
  /** Keep every block and state version (no pruning). */
  readonly archive: boolean;
  /**
   * With an empty data directory: start from the latest state block of a peer (verified from genesis,
   * plus its state snapshot) instead of replaying every block (docs/consensus.md §7).
   */
  readonly bootstrap: boolean;
  readonly consensus: Partial<ConsensusOptions>;
  readonly mempool: Partial<MempoolOptions>;
  readonly log: { readonly level: 'debug' | 'info' | 'warn' | 'error' };
}

export const defaultGatewayConfig: Omit<GatewayConfig, 'dataDir' | 'genesis' | 'key'> = {
  p2p: { listen: '127.0.0.1:7400', peers: [] },
  api: { listen: '127.0.0.1:8400' },
  archive: false,
  bootstrap: false,
  consensus: {},
  mempool: {},
  log: { level: 'info' },
};

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: Json, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(field, 'expected a non-empty string');
  return v;
}

/** "host:port" with a port in 0..65535 (0 = any free port). */
export function parseEndpoint(v: Json, field: string): { host: string; port: number } {
  const s = str(v, field);
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535)
    throw new ConfigError(field, `expected "host:port", got ${JSON.stringify(s)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function only(obj: Record<string, Json>, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ConfigError(`${field}.${k}`, 'unknown field');
  }
}

function numbers<T extends object>(v: Json, field: string, defaults: T): Partial<T> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new ConfigError(field, 'expected an object');
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    const d = (defaults as Record<string, unknown>)[k];
    if (d === undefined) throw new ConfigError(`${field}.${k}`, 'unknown field');
    if (typeof d === 'bigint') {
      if (typeof x !== 'string' || !/^\d+$/.test(x))
        throw new ConfigError(`${field}.${k}`, 'expected a decimal string');
      (out as Record<string, unknown>)[k] = BigInt(x);
      continue;
    }
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      throw new ConfigError(`${field}.${k}`, 'expected a non-negative number');
    out[k] = x;
  }
  return out as Partial<T>;
}

/** Validates parsed JSON against the config schema; relative paths resolve against `baseDir`. */
export function parseGatewayConfig(
  json: Json,
  baseDir: string,
  defaults: { consensus: ConsensusOptions; mempool: MempoolOptions },
): GatewayConfig {
  if (!isObject(json)) throw new ConfigError('(root)', 'expected a JSON object');
  only(json, '(root)', [
    'dataDir',
    'genesis',
    'key',
    'p2p',
    'api',
    'mqtt',
    'archive',
    'bootstrap',
    'consensus',
    'mempool',
    'log',
  ]);
  const resolve = (p: string) => (p.startsWith('/') ? p : `${baseDir}/${p}`);
  const consensus = numbers(json.consensus, 'consensus', defaults.consensus);
  const f = consensus.sampleFraction;
  if (f !== undefined && !(f > 0 && f <= 1))
    throw new ConfigError('consensus.sampleFraction', 'expected a fraction in (0, 1]');
  const p2p = json.p2p ?? defaultGatewayConfig.p2p;
  if (!isObject(p2p)) throw new ConfigError('p2p', 'expected an object');
  only(p2p, 'p2p', ['listen', 'peers']);
  parseEndpoint(p2p.listen, 'p2p.listen');
  const peers = p2p.peers ?? [];
  if (!Array.isArray(peers)) throw new ConfigError('p2p.peers', 'expected an array of "host:port"');
  for (const [i, p] of peers.entries()) parseEndpoint(p, `p2p.peers[${i}]`);
  const api = json.api ?? defaultGatewayConfig.api;
  if (!isObject(api)) throw new ConfigError('api', 'expected an object');
  only(api, 'api', ['listen']);
  parseEndpoint(api.listen, 'api.listen');
  let mqtt: GatewayConfig['mqtt'];
  if (json.mqtt !== undefined) {
    if (!isObject(json.mqtt)) throw new ConfigError('mqtt', 'expected an object');
    only(json.mqtt, 'mqtt', ['listen', 'url', 'username', 'password', 'passwordFile', 'aclFile', 'pidFile']);
    if ((json.mqtt.listen === undefined) === (json.mqtt.url === undefined)) {
      throw new ConfigError(
        'mqtt',
        'set exactly one of "listen" (embedded broker) and "url" (external broker)',
      );
    }
    if (json.mqtt.listen !== undefined) parseEndpoint(json.mqtt.listen, 'mqtt.listen');
    if (json.mqtt.url !== undefined && !/^mqtts?:\/\/\S+$/.test(str(json.mqtt.url, 'mqtt.url'))) {
      throw new ConfigError('mqtt.url', 'expected mqtt://host:port or mqtts://host:port');
    }
    for (const f of ['username', 'password', 'passwordFile', 'aclFile', 'pidFile'] as const) {
      if (json.mqtt[f] !== undefined) str(json.mqtt[f], `mqtt.${f}`);
    }
    if ((json.mqtt.passwordFile === undefined) !== (json.mqtt.aclFile === undefined)) {
      throw new ConfigError('mqtt', 'set both "passwordFile" and "aclFile" (or neither)');
    }
    if (json.mqtt.passwordFile !== undefined && json.mqtt.url === undefined) {
      throw new ConfigError('mqtt.passwordFile', 'only with an external broker ("url")');
    }
    const m = json.mqtt as Record<string, string>;
    mqtt = {
      ...m,
      ...(m.passwordFile ? { passwordFile: resolve(m.passwordFile) } : {}),
      ...(m.aclFile ? { aclFile: resolve(m.aclFile) } : {}),
      ...(m.pidFile ? { pidFile: resolve(m.pidFile) } : {}),
    };
  }
  if (json.archive !== undefined && typeof json.archive !== 'boolean')
    throw new ConfigError('archive', 'expected true or false');
  if (json.bootstrap !== undefined && typeof json.bootstrap !== 'boolean')
    throw new ConfigError('bootstrap', 'expected true or false');
  const log = json.log ?? defaultGatewayConfig.log;
  if (!isObject(log) || !['debug', 'info', 'warn', 'error'].includes(log.level as string)) {
    throw new ConfigError('log.level', 'expected one of debug, info, warn, error');
  }
  return {
    dataDir: resolve(str(json.dataDir, 'dataDir')),
    genesis: resolve(str(json.genesis, 'genesis')),
    key: resolve(str(json.key, 'key')),
    p2p: { listen: p2p.listen as string, peers: peers as string[] },
    api: { listen: api.listen as string },
    ...(mqtt ? { mqtt } : {}),
    archive: json.archive === true,
    bootstrap: json.bootstrap === true,
    consensus,
    mempool: numbers(json.mempool, 'mempool', defaults.mempool),
    log: { level: log.level as GatewayConfig['log']['level'] },
  };
}
