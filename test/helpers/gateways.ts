/**
 * Integration tests' devnet: N real gateway processes (`iosnet gateway start`) from createDevnetFiles in a
 * temp dir, each reachable through its HTTP API, killed and restarted by pid. close() stops every process
 * and removes the dir, so no run leaves anything behind.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChainParams } from '../../core/genesis.js';
import { GatewayClient } from '../../gateway/api/client.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { createDevnetFiles, DEVNET_PARAMS, type DevnetFiles } from '../../gateway/devnet/files.js';
import { type GatewayProcess, spawnGateway, stopGateways } from '../../gateway/devnet/processes.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';

export const crypto = createNativeCrypto();

/** Fast test chains: 32-block epochs, a state block every 8. */
export const TEST_PARAMS: ChainParams = { ...DEVNET_PARAMS, epochLength: 32, stateBlockInterval: 8 };

export class TestNet {
  readonly procs: (GatewayProcess | undefined)[];
  readonly clients: GatewayClient[];

  private constructor(
    readonly files: DevnetFiles,
    readonly dir: string,
  ) {
    this.procs = files.nodes.map(() => undefined);
    this.clients = files.nodes.map(
      (n) => new GatewayClient(`http://127.0.0.1:${n.apiPort}`, { timeoutMs: 5000 }),
    );
  }

  static async create(
    validators: number,
    opts: { params?: ChainParams; consensus?: Record<string, number> } = {},
  ): Promise<TestNet> {
    const dir = mkdtempSync(join(tmpdir(), 'iosnet-it-'));
    const files = await createDevnetFiles(crypto, dir, {
      validators,
      params: opts.params ?? TEST_PARAMS,
      consensus: { blockIntervalMs: 100, ...opts.consensus },
    });
    const net = new TestNet(files, dir);
    // IOSNET_TEST_LOG_LEVEL=debug: the gateways' consensus decisions in their logs (with IOSNET_KEEP_TEST_DIRS).
    const level = process.env.IOSNET_TEST_LOG_LEVEL;
    if (level) for (let i = 0; i < files.nodes.length; i++) net.configure(i, { log: { level } });
    return net;
  }

  /** The account address of gateway i's node key (its stake, its validator record). */
  owner(i: number): Uint8Array {
    return readKeyFile(this.files.nodes[i]!.keyPath, crypto).key.address;
  }

  /** Edits gateway i's config file (e.g. { bootstrap: true }). */
  configure(i: number, patch: Record<string, unknown>): void {
    const path = this.files.nodes[i]!.configPath;
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...patch }, null, 2));
  }

  start(
    i: number,
    opts: { byzantine?: 'equivocate' | 'invalid-block' | 'withhold-votes' } = {},
  ): GatewayProcess {
    const args = opts.byzantine ? ['--byzantine', opts.byzantine] : [];
    const env: Record<string, string> = opts.byzantine ? { IOSNET_TEST_MODE: '1' } : {};
    const p = spawnGateway(this.files.nodes[i]!, this.dir, () => {}, args, env);
    this.procs[i] = p;
    return p;
  }

  startAll(except: readonly number[] = []): void {
    for (let i = 0; i < this.files.nodes.length; i++) if (!except.includes(i)) this.start(i);
  }

  /** SIGTERM and wait: a clean shutdown. */
  async stop(i: number): Promise<void> {
    const p = this.procs[i];
    if (!p || p.exit) return;
    await stopGateways([p], 5000);
  }

  /** Deletes gateway i's data directory (a lost disk; the node must be stopped). */
  wipe(i: number): void {
    rmSync(this.files.nodes[i]!.dataDir, { recursive: true, force: true });
  }

  /** SIGKILL: a crash at an arbitrary moment (no shutdown code runs). */
  async crash(i: number): Promise<void> {
    const p = this.procs[i];
    if (!p || p.exit) return;
    process.kill(p.pid, 'SIGKILL');
    await p.exited;
  }

  /** Resolves when `check` holds, polling; rejects with the last state after timeoutMs. */
  async waitFor<T>(
    what: string,
    read: () => Promise<T>,
    check: (v: T) => boolean,
    timeoutMs = 60_000,
  ): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: T | undefined;
    let lastError: unknown;
    while (Date.now() < end) {
      try {
        last = await read();
        if (check(last)) return last;
      } catch (e) {
        lastError = e;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const died = this.procs.flatMap((_, i) => (this.died(i) ? [i] : []));
    throw new Error(
      [
        `timed out waiting for ${what}: last ${JSON.stringify(last)} ${lastError ?? ''}`,
        ...died.map((i) => this.postMortem(i)),
      ].join('\n'),
    );
  }

  /** Gateway i exited by itself with an error (not stopped or killed by the test). */
  private died(i: number): boolean {
    const p = this.procs[i];
    return !!p?.exit && p.exit.signal === null && p.exit.code !== 0;
  }

  /** Finalized height of gateway i. */
  async height(i: number): Promise<number> {
    return (await this.clients[i]!.status()).finalizedHeight;
  }

  async waitHeight(i: number, height: number, timeoutMs = 60_000): Promise<number> {
    try {
      return await this.waitFor(
        `gateway ${i} at height ${height}`,
        () => this.height(i),
        (h) => h >= height,
        timeoutMs,
      );
    } catch (e) {
      // waitFor already added the post-mortem of a gateway that died; a running one may be stuck.
      if (this.died(i)) throw e;
      throw new Error(`${(e as Error).message}\n${this.postMortem(i)}`);
    }
  }

  /** Gateway i's process state and the tail of its log, for a failure message (its dir is gone after close). */
  postMortem(i: number, lines = 15): string {
    const p = this.procs[i];
    const state = !p
      ? 'never started'
      : p.exit
        ? `exited (code ${p.exit.code}, signal ${p.exit.signal})`
        : `running (pid ${p.pid})`;
    const tail = this.log(i).trimEnd().split('\n').slice(-lines).join('\n');
    return `gateway ${i}: ${state}; last lines of its log:\n${tail}`;
  }

  /** Block id (hex) at a height from gateway i, or null when it does not have it. */
  async blockId(i: number, height: number): Promise<string | null> {
    const res = await fetch(`${this.clients[i]!.base}/blocks/${height}`);
    if (!res.ok) return null;
    return ((await res.json()) as { id: string }).id;
  }

  async staked(i: number, owner: Uint8Array): Promise<bigint> {
    return (await this.clients[i]!.account(owner)).staked;
  }

  async supplyIntact(i: number): Promise<boolean> {
    return (await this.clients[i]!.supply()).intact;
  }

  /** Prometheus counter value from /metrics (0 when absent). */
  async metric(i: number, name: string): Promise<number> {
    const text = await (await fetch(`${this.clients[i]!.base}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(' ').at(-1));
    }
    return sum;
  }

  log(i: number): string {
    try {
      return readFileSync(
        this.procs[i]?.logPath ?? join(this.dir, `${this.files.nodes[i]!.name}.log`),
        'utf8',
      );
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    await stopGateways(
      this.procs.filter((p): p is GatewayProcess => p !== undefined),
      5000,
    );
    // IOSNET_KEEP_TEST_DIRS=1 keeps the gateways' logs and data for a post-mortem.
    if (process.env.IOSNET_KEEP_TEST_DIRS === '1') process.stderr.write(`kept ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
