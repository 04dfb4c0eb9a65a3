/**
 * `iosnet tx send | stake | unstake | review`: builds a transaction with the account's next nonce (read
 * from the gateway's GET /accounts/:address?at=latest), signs it with the key file, submits it (POST /txs)
 * and, with --wait, polls GET /txs/:id until it reaches the grade asked for.
 */
import { toHex, utf8 } from '../../core/bytes.js';
import { IosnetError } from '../../core/errors.js';
import { parseIost } from '../../core/token.js';
import { encodeTx, MAX_MEMO_BYTES, signTx, type TxPayload } from '../../core/tx.js';
import { GatewayClient, type TxView } from '../api/client.js';
import { readKeyFile } from '../keys/keyfile.js';
import { type CliCommand, defineCommand, printJson, requireOption, UsageError, warn } from './command.js';
import { cliCrypto } from './crypto.js';

const COMMON_USAGE = `  --key FILE       the sender's key file
  --gateway URL    a gateway's API, e.g. http://127.0.0.1:8400
  --fee IOST       fee paid to the block's proposer (default 0)
  --nonce N        use this nonce instead of the account's next one
  --expiry S       seconds the transaction stays valid (default 600)
  --wait 1|2       wait for grade 1 (in a league member's proposal) or grade 2 (final)
  --timeout S      how long --wait waits (default 60)
  --json           print one JSON object
  -h, --help       show this help`;

const COMMON_OPTIONS = {
  key: { type: 'string' },
  gateway: { type: 'string' },
  fee: { type: 'string' },
  nonce: { type: 'string' },
  expiry: { type: 'string' },
  wait: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface CommonValues {
  key?: string;
  gateway?: string;
  fee?: string;
  nonce?: string;
  expiry?: string;
  wait?: string;
  timeout?: string;
  json?: boolean;
}

function hex32(text: string, option: string, code: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new IosnetError(code, `--${option} must be 32 bytes as 64 hex digits, got ${JSON.stringify(text)}`);
  }
  return new Uint8Array(Buffer.from(text, 'hex'));
}

function positiveInt(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) <= 0)
    throw new UsageError(`--${option} must be a positive integer`);
  return Number(text);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until the grade is reached; a transaction that leaves the mempool unseen again was dropped. */
async function waitFor(client: GatewayClient, id: string, grade: 1 | 2, timeoutMs: number): Promise<TxView> {
  const deadline = Date.now() + timeoutMs;
  let unknownInARow = 0;
  for (;;) {
    const t = await client.tx(id);
    if (t.status === 'grade2' || (grade === 1 && t.status === 'grade1')) return t;
    unknownInARow = t.status === 'unknown' ? unknownInARow + 1 : 0;
    // Pending -> final happens in one step on the gateway, so "unknown" twice means it left the pool.
    if (unknownInARow >= 3) {
      throw new IosnetError('TX_DROPPED', `${id} left the gateway's mempool without being included`);
    }
    if (Date.now() > deadline) {
      throw new IosnetError('TX_WAIT_TIMEOUT', `${id} is ${t.status} after ${timeoutMs / 1000} s`, { id });
    }
    await sleep(100);
  }
}

async function submit(values: CommonValues, payload: TxPayload, what: string): Promise<void> {
  const keyPath = requireOption(values.key, 'key');
  const gateway = requireOption(values.gateway, 'gateway');
  const wait = values.wait === undefined ? undefined : Number(values.wait);
  if (wait !== undefined && wait !== 1 && wait !== 2) throw new UsageError('--wait must be 1 or 2');
  if (values.nonce !== undefined && !/^\d{1,15}$/.test(values.nonce)) {
    throw new UsageError('--nonce must be a non-negative integer');
  }
  const timeoutS = positiveInt(values.timeout, 'timeout', 60);
  const expiryS = positiveInt(values.expiry, 'expiry', 600);
  const fee = values.fee === undefined ? 0n : parseIost(values.fee);
  const crypto = cliCrypto();
  const { key, warning } = readKeyFile(keyPath, crypto);
  if (warning) warn('tx', warning);
  const client = new GatewayClient(gateway);
  const started = Date.now();
  const status = await client.status();
  const nonce = values.nonce === undefined ? (await client.account(key.address)).nonce : Number(values.nonce);
  const { tx, id } = signTx(
    crypto,
    {
      chainId: status.chainId,
      sender: key.ed25519.publicKey,
      nonce,
      expiry: Date.now() + expiryS * 1000,
      fee,
      payload,
    },
    [key.ed25519.secretKey],
  );
  try {
    await client.submitTx(encodeTx(tx));
  } catch (e) {
    if (e instanceof IosnetError && e.data.status !== undefined) {
      throw new IosnetError(e.code, `the gateway refused the ${what}: ${e.message}`, e.data);
    }
    throw e;
  }
  const idHex = toHex(id);
  const result = wait ? await waitFor(client, idHex, wait, timeoutS * 1000) : undefined;
  const summary = {
    id: idHex,
    nonce,
    status: result?.status ?? 'pending',
    grade: result ? (result.status === 'grade2' ? 2 : 1) : null,
    height: result?.height ?? null,
    ms: Date.now() - started,
  };
  if (values.json) return printJson(summary);
  console.log(`id      ${summary.id}`);
  if (summary.grade === null) console.log('status  pending');
  else console.log(`grade   ${summary.grade} (height ${summary.height}, ${summary.ms} ms)`);
}

function txCommand(
  name: string,
  synopsis: string,
  description: string,
  extraUsage: string,
  extraOptions: Record<string, { type: 'string' }>,
  payloadOf: (values: Record<string, string | undefined>) => TxPayload,
): CliCommand {
  return defineCommand({
    usage: `usage: iosnet tx ${name} ${synopsis} --key FILE --gateway URL [options]\n\n${description}\n\noptions:\n${extraUsage}\n${COMMON_USAGE}`,
    options: { ...COMMON_OPTIONS, ...extraOptions },
    async run({ values }) {
      const v = values as CommonValues & Record<string, string | undefined>;
      // Checked before any network access: a bad argument never reaches the gateway.
      const payload = payloadOf(v);
      await submit(v, payload, name === 'send' ? 'transfer' : name);
    },
  });
}

export const sendCommand = txCommand(
  'send',
  '--to ADDRESS --amount IOST [--memo TEXT]',
  'Transfers IOST to an address.',
  `  --to ADDRESS     recipient address (64 hex digits)
  --amount IOST    amount, up to 8 decimals (e.g. 12.5)
  --memo TEXT      up to ${MAX_MEMO_BYTES} bytes of UTF-8`,
  { to: { type: 'string' }, amount: { type: 'string' }, memo: { type: 'string' } },
  (v) => {
    const to = hex32(requireOption(v.to, 'to'), 'to', 'ADDRESS_INVALID');
    const amount = parseIost(requireOption(v.amount, 'amount'));
    const memo = utf8(v.memo ?? '');
    if (memo.length > MAX_MEMO_BYTES)
      throw new UsageError(`--memo is ${memo.length} bytes, at most ${MAX_MEMO_BYTES}`);
    return { kind: 'transfer', to, amount, memo };
  },
);

function stakeLike(kind: 'stake' | 'unstake', description: string): CliCommand {
  return txCommand(
    kind,
    '--amount IOST',
    description,
    '  --amount IOST    amount, up to 8 decimals',
    { amount: { type: 'string' } },
    (v) => {
      const amount = parseIost(requireOption(v.amount, 'amount'));
      if (amount === 0n) throw new IosnetError('AMOUNT_INVALID', '--amount must be above 0');
      return { kind, amount };
    },
  );
}

export const stakeCommand = stakeLike('stake', "Moves IOST from the account's balance to its stake.");
export const unstakeCommand = stakeLike(
  'unstake',
  'Starts unbonding staked IOST (it becomes liquid after the unbonding epochs).',
);

export const reviewCommand = txCommand(
  'review',
  '--service ID --rating 1..5 [--comment-hash HEX]',
  "Rates a service you consumed; weighted by your stake, it feeds the provider's believability.",
  `  --service ID         the service id (64 hex digits)
  --rating 1..5        1 worst, 5 best
  --comment-hash HEX   hash of an off-chain comment (64 hex digits; default zeros)`,
  { service: { type: 'string' }, rating: { type: 'string' }, 'comment-hash': { type: 'string' } },
  (v) => {
    const serviceId = hex32(requireOption(v.service, 'service'), 'service', 'SERVICE_ID_INVALID');
    const rating = requireOption(v.rating, 'rating');
    if (!/^[1-5]$/.test(rating)) throw new UsageError('--rating must be an integer from 1 to 5');
    const commentHash = v['comment-hash']
      ? hex32(v['comment-hash'], 'comment-hash', 'ARGUMENT_INVALID')
      : new Uint8Array(32);
    return { kind: 'review', serviceId, rating: Number(rating), commentHash };
  },
);
