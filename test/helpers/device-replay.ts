/**
 * Records light-client sessions against the fake gateway on the host, so the bundled client can replay
 * them elsewhere (test/system/fixtures/device-client-check.ts on Debian's Node 18) and must reach the same
 * outcomes. Each session is one scenario of device-gateway.ts, optionally with a lying gateway.
 */
import { toHex } from '../../core/bytes.js';
import type { DeviceResponse } from '../../core/device-protocol.js';
import { encodeAccount } from '../../core/state.js';
import { encodeAnchor } from '../../device/anchor.js';
import { createLightClient, type SubmittedTx } from '../../device/client.js';
import { createMemoryKeyStore } from '../../device/keystore.js';
import type { ReplayScenarios, ReplaySession } from '../system/fixtures/device-client-check.js';
import { normalizeRequest, normalizeResponse, type ReplayMap } from '../system/fixtures/replay-transport.js';
import { errorOutcome, scenarioOps } from '../system/fixtures/scenario-ops.js';
import { makeStateBlock, signCollective, TEST_TIME } from './chain.js';
import { testCrypto as crypto } from './crypto.js';
import {
  buildDeviceScenario,
  DEVICE_START_BALANCE,
  type DeviceScenario,
  makeCommittees,
} from './device-gateway.js';
import { ed25519Key } from './keys.js';

const seed = ed25519Key('device/replay').secretKey;
const device = { boardId: 'rpi4', hardwareSerial: 'SN-replay' };
const keyStore = createMemoryKeyStore({ crypto, ...device, seed });
const to = ed25519Key('bob').address;

interface SessionSpec {
  readonly name: string;
  readonly ops: readonly string[];
  /** Prepares the gateway (a tamper hook) before the session. */
  readonly prepare?: (s: DeviceScenario) => void;
  /** Runs between ops (after the op at that index). */
  readonly after?: Record<number, (s: DeviceScenario, last?: SubmittedTx) => void>;
}

function tamperKind<K extends DeviceResponse['kind']>(
  s: DeviceScenario,
  kind: K,
  f: (r: Extract<DeviceResponse, { kind: K }>) => DeviceResponse,
): void {
  s.gateway.tamper = (_req, honest) =>
    honest.kind === kind ? f(honest as Extract<DeviceResponse, { kind: K }>) : honest;
}

const SPECS: readonly SessionSpec[] = [
  { name: 'honest', ops: ['start', 'account', 'registration'] },
  {
    name: 'forgedStateBlock',
    ops: ['start'],
    prepare: (s) => {
      const evil = makeCommittees(1, 4, 'replay-evil')[0]!;
      tamperKind(s, 'stateBlocks', (r) => ({
        ...r,
        items: r.items.map((it) =>
          it.stateBlock.index === 4
            ? {
                ...it,
                stateBlock: {
                  ...it.stateBlock,
                  signature: signCollective(evil, new Uint8Array(32), [0, 1, 2, 3]),
                },
              }
            : it,
        ),
      }));
    },
  },
  {
    name: 'underSigned',
    ops: ['start'],
    prepare: (s) => {
      const under = makeStateBlock(s.committees[0]!, { ...s.chain.sealed[0]!.stateBlock }, [0]).stateBlock;
      tamperKind(s, 'stateBlocks', (r) => ({ ...r, items: [{ stateBlock: under, nextCommittee: null }] }));
    },
  },
  {
    name: 'unsignedTransition',
    ops: ['start'],
    prepare: (s) => {
      const [c1, c2] = [s.committees[0]!, s.committees[1]!];
      const fake = makeStateBlock(c2, { ...s.chain.sealed[1]!.stateBlock, committee: c1.hash }).stateBlock;
      tamperKind(s, 'stateBlocks', (r) => ({
        ...r,
        items: r.items.map((it) =>
          it.stateBlock.index === 1 ? { stateBlock: fake, nextCommittee: c2.committee } : it,
        ),
      }));
    },
  },
  {
    name: 'lyingBalance',
    ops: ['start', 'account'],
    prepare: (s) =>
      tamperKind(s, 'recordProof', (r) => ({
        ...r,
        proof: {
          ...r.proof,
          record: encodeAccount({
            balance: 10n ** 15n,
            nonce: 0,
            staked: 0n,
            unbonding: 0n,
            unbondingEpoch: 0,
            locked: 0n,
          }),
        },
      })),
  },
  {
    name: 'staleProof',
    ops: ['start', 'account'],
    prepare: (s) => {
      s.chain.seal();
      s.gateway.tamper = (req, honest) =>
        req.kind === 'proveRecord'
          ? { kind: 'recordProof', requestId: req.requestId, ...s.chain.proofAt(4, req.namespace, req.id) }
          : honest;
    },
  },
  {
    name: 'hiddenTx',
    ops: ['start', 'transfer', 'txStatusLast'],
    after: {
      1: (s) => {
        s.chain.include(s.gateway.submitted, 2);
        s.chain.setAccount(keyStore.address, {
          balance: DEVICE_START_BALANCE - 2000n,
          nonce: 1,
          staked: 0n,
          unbonding: 0n,
          unbondingEpoch: 0,
          locked: 0n,
        });
        s.chain.seal();
        tamperKind(s, 'txStatus', (r) => ({ ...r, status: 'pending', proof: null }));
      },
    },
  },
  {
    name: 'grade2',
    ops: ['start', 'transfer', 'txStatusLast'],
    after: { 1: (s) => s.chain.include(s.gateway.submitted, 2) },
  },
];

async function record(
  spec: SessionSpec,
  members: number,
): Promise<{ session: ReplaySession; outcomes: unknown[] }> {
  const s = buildDeviceScenario({ ...keyStore, owner: ed25519Key('owner').address }, { members });
  spec.prepare?.(s);
  const map: ReplayMap = {};
  s.gateway.onExchange = (req, res) => {
    const k = normalizeRequest(req);
    const answers = map[k] ?? [];
    answers.push(res ? normalizeResponse(res) : '');
    map[k] = answers;
  };
  const client = createLightClient({
    anchor: s.anchor,
    transport: s.transport,
    keyStore,
    crypto,
    now: () => TEST_TIME,
    requestTimeoutMs: 5_000,
  });
  const outcomes: unknown[] = [];
  const { ops, last } = scenarioOps(client, to);
  try {
    for (const [i, op] of spec.ops.entries()) {
      outcomes.push({ ok: await ops[op]!() });
      spec.after?.[i]?.(s, last());
    }
  } catch (e) {
    outcomes.push(errorOutcome(e));
  }
  await client.close();
  return {
    session: { name: spec.name, anchor: toHex(encodeAnchor(s.anchor)), map, ops: spec.ops },
    outcomes,
  };
}

/** The recorded scenarios (to write beside the bundle) and the outcomes every Node must reproduce. */
export async function recordDeviceSessions(
  opts: { members?: number; only?: readonly string[] } = {},
): Promise<{
  scenarios: ReplayScenarios;
  expected: Record<string, unknown[]>;
}> {
  const sessions: ReplaySession[] = [];
  const expected: Record<string, unknown[]> = {};
  for (const spec of SPECS) {
    if (opts.only && !opts.only.includes(spec.name)) continue;
    const { session, outcomes } = await record(spec, opts.members ?? 4);
    sessions.push(session);
    expected[spec.name] = outcomes;
  }
  return {
    scenarios: { device: { seed: toHex(seed), ...device }, now: TEST_TIME, to: toHex(to), sessions },
    expected,
  };
}
