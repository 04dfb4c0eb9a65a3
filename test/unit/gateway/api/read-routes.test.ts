/**
 * The API's read routes against a real one-validator gateway: status, blocks, state blocks, records with
 * proofs that verify with core's light-client checks, supply, metrics, and typed errors for bad input.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../../../../core/bytes.js';
import { committeeHash, decodeCommittee, prepareCommittee } from '../../../../core/committee.js';
import { decodeBlockHeader, decodeFinalityCertificate } from '../../../../core/header.js';
import { deviceIdentityHash } from '../../../../core/identity.js';
import { decodeStateProof } from '../../../../core/proofs.js';
import { decodeStateBlock, stateBlockIdOf } from '../../../../core/state-block.js';
import { TOTAL_SUPPLY } from '../../../../core/token.js';
import {
  verifyAccountProof,
  verifyFinalityCertificate,
  verifyStateBlock,
  verifyStateProof,
} from '../../../../core/verify.js';
import { readKeyFile } from '../../../../gateway/keys/keyfile.js';
import { type ApiFixture, committeeOf, crypto, getJson, startApiFixture, waitFor } from './fixture.js';

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture();
  // A state block (every 8 heights) exists before the record routes are asked.
  await waitFor(() => (f.node.store.latestStateBlock() ? true : undefined));
});
afterAll(() => f?.close());

describe('GET /status', () => {
  test('reports the chain, heights, mempool, peers, rates and the committee', async () => {
    const { status, body } = await getJson(f, '/status');
    expect(status).toBe(200);
    expect(body.chainId).toBe(f.files.genesis.chainId);
    expect(body.genesisHash).toBe(toHex(f.node.genesisHash));
    expect(body.nodeId).toBe(f.node.network.peerId);
    expect(body.height).toBeGreaterThan(body.finalizedHeight);
    expect(body.finalizedHeight).toBeGreaterThanOrEqual(8);
    expect(body.latestStateBlock).toBeGreaterThanOrEqual(0);
    expect(body.mempool).toEqual({ size: 0, bytes: 0 });
    expect(body.peers).toEqual([]);
    expect(typeof body.txPerSecond).toBe('number');
    expect(body.latencyMs.grade1).toEqual({ p50: null, p99: null, samples: 0 });
    expect(body.committee).toHaveLength(1);
    const m = body.committee[0];
    expect(m).toMatchObject({ index: 0, league: true, slashed: false });
    expect(m.owner).toBe(toHex(readKeyFile(f.files.nodes[0]!.keyPath, crypto).key.address));
    expect(BigInt(m.stake)).toBeGreaterThan(0n);
    for (const k of ['weight', 'servi', 'done', 'missed']) expect(typeof m[k]).toBe('number');
    for (const k of ['reputationPpm', 'reviewPpm', 'behaviourPpm', 'believability'])
      expect(m[k]).toMatch(/^\d+$/);
    expect(m.blsPublicKey).toBe(
      toHex(f.node.hooks.committee(f.node.state, body.epoch).committee.members[0]!.blsPublicKey),
    );
  });
});

describe('GET /blocks/:height', () => {
  test('JSON: header, tx ids and certificate of the stored block', async () => {
    const { status, body } = await getJson(f, '/blocks/3');
    expect(status).toBe(200);
    const parsed = f.node.store.getBlock(3)!;
    expect(body.id).toBe(toHex(parsed.blockId));
    expect(body.header.height).toBe(3);
    expect(body.header.stateRoot).toBe(toHex(parsed.block.header.stateRoot));
    expect(body.txIds).toEqual(parsed.txIds.map(toHex));
    expect(body.certificate.blockId).toBe(toHex(parsed.blockId));
  });

  test('?format=cbor: the exact block bytes', async () => {
    const res = await fetch(`${f.base}/blocks/3?format=cbor`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/cbor');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(f.node.store.getBlockBytes(3));
  });

  test.each([
    ['/blocks/0', 400, 'INVALID_PARAM'],
    ['/blocks/01', 400, 'INVALID_PARAM'],
    ['/blocks/-1', 400, 'INVALID_PARAM'],
    ['/blocks/abc', 400, 'INVALID_PARAM'],
    ['/blocks/1e3', 400, 'INVALID_PARAM'],
    ['/blocks/99999999', 404, 'NOT_FOUND'],
    ['/blocks/1?format=xml', 400, 'INVALID_PARAM'],
    ['/blocks/1?foo=1', 400, 'INVALID_PARAM'],
  ])('%s -> %i %s', async (path, code, errorCode) => {
    const { status, body } = await getJson(f, path);
    expect(status).toBe(code);
    expect(body).toEqual({ error: { code: errorCode, message: expect.any(String) } });
  });
});

describe('state blocks and records with proofs', () => {
  test('GET /state-blocks/latest and /:index: a state block that verifies under the committee it names', async () => {
    const { body } = await getJson(f, '/state-blocks/latest');
    const sb = decodeStateBlock(fromHex(body.stateBlock));
    const committee = decodeCommittee(fromHex(body.committee.object));
    expect(toHex(committeeHash(crypto, committee))).toBe(body.committee.hash);
    const id = verifyStateBlock(crypto, sb, prepareCommittee(crypto, committee));
    expect(toHex(id)).toBe(body.id);
    expect(body.decoded.index).toBe(sb.index);
    const again = await getJson(f, `/state-blocks/${sb.index}`);
    expect(again.body.stateBlock).toBe(body.stateBlock);
    expect((await getJson(f, '/state-blocks/999999')).status).toBe(404);
    expect((await getJson(f, '/state-blocks/x')).body.error.code).toBe('INVALID_PARAM');
  });

  test('GET /accounts/:address: the account with a proof under the latest state block', async () => {
    const address = f.funder.address;
    const { status, body } = await getJson(f, `/accounts/${toHex(address)}`);
    expect(status).toBe(200);
    const sb = decodeStateBlock(fromHex(body.stateBlock));
    expect(toHex(stateBlockIdOf(crypto, sb))).toBe(body.stateBlockId);
    verifyStateBlock(crypto, sb, committeeOf(f, sb.epoch));
    const account = verifyAccountProof(crypto, sb.stateRoot, address, decodeStateProof(fromHex(body.proof)));
    expect(account).not.toBeNull();
    expect(body.exists).toBe(true);
    expect(body.account.balance).toBe(account!.balance.toString());
    expect(body.height).toBe(sb.toHeight);
  });

  test('GET /accounts/:address?at=latest: proof under the latest final header, with its certificate', async () => {
    const address = f.funder.address;
    const { body } = await getJson(f, `/accounts/${toHex(address)}?at=latest`);
    const header = decodeBlockHeader(fromHex(body.header));
    const cert = decodeFinalityCertificate(fromHex(body.certificate));
    expect(header.height).toBe(body.height);
    const committee = committeeOf(f, header.epoch);
    verifyFinalityCertificate(crypto, committee, cert, cert.blockId, header);
    const account = verifyAccountProof(
      crypto,
      header.stateRoot,
      address,
      decodeStateProof(fromHex(body.proof)),
    );
    expect(account?.nonce).toBe(body.account.nonce);
  });

  test('an absent account is zeros, with a proof of absence', async () => {
    const address = new Uint8Array(32).fill(0xab);
    const { body } = await getJson(f, `/accounts/${toHex(address)}`);
    expect(body.exists).toBe(false);
    expect(body.account).toEqual({
      balance: '0',
      nonce: 0,
      staked: '0',
      unbonding: '0',
      unbondingEpoch: 0,
      locked: '0',
    });
    const sb = decodeStateBlock(fromHex(body.stateBlock));
    expect(
      verifyAccountProof(crypto, sb.stateRoot, address, decodeStateProof(fromHex(body.proof))),
    ).toBeNull();
  });

  test('GET /devices/:identityHash and /files/:fileRoot: absence proofs that verify', async () => {
    const idHash = deviceIdentityHash(crypto, 'rpi4', new Uint8Array(32).fill(1), 'serial-1');
    for (const [path, namespace, id] of [
      [`/devices/${toHex(idHash)}`, 'device', idHash],
      [`/files/${'cd'.repeat(32)}`, 'file', fromHex('cd'.repeat(32))],
    ] as const) {
      const { status, body } = await getJson(f, path);
      expect(status).toBe(200);
      expect(body.record).toBeNull();
      const sb = decodeStateBlock(fromHex(body.stateBlock));
      const proof = decodeStateProof(fromHex(body.proof));
      expect(verifyStateProof(crypto, sb.stateRoot, proof, { namespace, id })).toBeNull();
    }
  });

  test.each([
    ['/accounts/zz', 'INVALID_HEX'],
    ['/accounts/abc', 'INVALID_HEX'],
    [`/accounts/${'ab'.repeat(31)}`, 'INVALID_LENGTH'],
    [`/accounts/${'ab'.repeat(33)}`, 'INVALID_LENGTH'],
    [`/accounts/0x${'ab'.repeat(31)}`, 'INVALID_HEX'],
    [`/accounts/${'ab'.repeat(32)}?at=yesterday`, 'INVALID_PARAM'],
    ['/devices/00', 'INVALID_LENGTH'],
    ['/files/xyz', 'INVALID_HEX'],
  ])('%s -> 400 %s', async (path, code) => {
    const { status, body } = await getJson(f, path);
    expect(status).toBe(400);
    expect(body.error.code).toBe(code);
  });
});

describe('supply, metrics, routing', () => {
  test('GET /supply: the total supply is intact', async () => {
    const { body } = await getJson(f, '/supply');
    expect(body).toMatchObject({ totalSupply: TOTAL_SUPPLY.toString(), intact: true });
  });

  test('GET /metrics: Prometheus text with every iosnet metric', async () => {
    await getJson(f, '/status');
    const res = await fetch(`${f.base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of [
      'iosnet_height',
      'iosnet_finalized_height',
      'iosnet_view',
      'iosnet_epoch',
      'iosnet_finalized_blocks_total',
      'iosnet_finalized_txs_total',
      'iosnet_view_changes_total',
      'iosnet_evidence_total',
      'iosnet_state_blocks_total',
      'iosnet_mempool_txs',
      'iosnet_mempool_bytes',
      'iosnet_peers',
      'iosnet_tx_grade1_seconds',
      'iosnet_tx_grade2_seconds',
      'iosnet_block_txs',
      'iosnet_api_requests_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    const finalized = Number(/^iosnet_finalized_height (\d+)$/m.exec(text)![1]);
    expect(finalized).toBeGreaterThanOrEqual(8);
    expect(text).toMatch(/^iosnet_api_requests_total\{route="\/status",status="200"\} [1-9]/m);
  });

  test('unknown routes are 404, wrong methods 405 with Allow, errors never carry a stack', async () => {
    const a = await getJson(f, '/nope');
    expect(a).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route /nope' } } });
    const b = await fetch(`${f.base}/status`, { method: 'POST', body: 'x' });
    expect(b.status).toBe(405);
    expect(b.headers.get('allow')).toBe('GET');
    expect(((await b.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
    const c = await fetch(`${f.base}/txs/${'ab'.repeat(32)}`, { method: 'DELETE' });
    expect(c.status).toBe(405);
    expect(JSON.stringify(await getJson(f, '/blocks/x'))).not.toMatch(/at .*\.ts/);
  });
});
