/**
 * A real one-validator gateway (startGatewayNode on a temp dir, API on a free port) for the API suites:
 * a single validator holds all the weight, so it finalizes alone (measured: a block per blockIntervalMs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '../../../../core/bytes.js';
import { prepareCommittee } from '../../../../core/committee.js';
import { encodeTx, signTx, type TxPayload } from '../../../../core/tx.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { createDevnetFiles, type DevnetFiles } from '../../../../gateway/devnet/files.js';
import { type KeyFile, readKeyFile } from '../../../../gateway/keys/keyfile.js';
import { silentLogger } from '../../../../gateway/log/logger.js';
import { type GatewayNode, loadGatewayConfig, startGatewayNode } from '../../../../gateway/node/node.js';

export const crypto = createNativeCrypto();

/** A response body; the tests check it field by field. */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers are asserted field by field in each test
export type Body = any;

export interface ApiFixture {
  readonly dir: string;
  readonly files: DevnetFiles;
  readonly node: GatewayNode;
  readonly base: string;
  /** The private-sale bucket's key: a funded account. */
  readonly funder: KeyFile;
  close(): Promise<void>;
}

export async function startApiFixture(): Promise<ApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'iosnet-api-'));
  // Fast empty blocks so that the first state block (every 8 heights) comes within a second.
  const files = await createDevnetFiles(crypto, dir, { validators: 1, consensus: { blockIntervalMs: 100 } });
  const node = await startGatewayNode(loadGatewayConfig(files.nodes[0]!.configPath), {
    log: silentLogger(),
    metrics: { defaultMetrics: false },
  });
  return {
    dir,
    files,
    node,
    base: `http://127.0.0.1:${node.ports.api}`,
    funder: readKeyFile(files.bucketKeys.privateSale, crypto).key,
    async close() {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function signedTx(
  f: ApiFixture,
  nonce: number,
  payload: TxPayload = { kind: 'transfer', to: new Uint8Array(32).fill(7), amount: 5n, memo: utf8('api') },
  key: KeyFile = f.funder,
): { bytes: Uint8Array; id: Uint8Array } {
  const { tx, id } = signTx(
    crypto,
    {
      chainId: f.files.genesis.chainId,
      sender: key.ed25519.publicKey,
      nonce,
      expiry: Date.now() + 60_000,
      fee: 0n,
      payload,
    },
    [key.ed25519.secretKey],
  );
  return { bytes: encodeTx(tx), id };
}

export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function getJson(f: ApiFixture, path: string): Promise<{ status: number; body: Body }> {
  const res = await fetch(f.base + path);
  return { status: res.status, body: await res.json() };
}

export async function post(
  f: ApiFixture,
  path: string,
  body: Uint8Array | string,
  contentType: string,
): Promise<{ status: number; body: Body }> {
  const res = await fetch(f.base + path, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, body: await res.json() };
}

export function committeeOf(f: ApiFixture, epoch: number) {
  return prepareCommittee(crypto, f.node.hooks.committee(f.node.state, epoch).committee);
}
