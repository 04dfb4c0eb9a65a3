/**
 * Periodic transactions of a running device (`iosnet device run --transact-every MS --transfer-to ADDR`):
 * what devnet devices do to show the whole path (sign, submit, prove the grade, prove the new balance).
 * Every round: prove the account; if it can pay, send a small transfer (every other round a service
 * payment when a service id is given), wait for the grade asked for by proof, prove the account again and
 * report. A failed round is reported and the next one goes on; one round at a time.
 */
import { IosnetError } from '../core/errors.js';
import type { LightClient } from './client.js';

export interface DeviceActivityOptions {
  readonly everyMs: number;
  /** Recipient address (32 bytes). */
  readonly transferTo: Uint8Array;
  readonly amount: bigint;
  readonly fee: bigint;
  /** When set, every other round is a payment for this service (a transfer with the id as memo). */
  readonly serviceId?: Uint8Array;
  readonly grade: 1 | 2;
  readonly gradeTimeoutMs: number;
}

export type DeviceActivityReport =
  | {
      readonly event: 'tx';
      readonly kind: 'transfer' | 'payService';
      readonly id: Uint8Array;
      readonly grade: number;
      readonly height: number | undefined;
      readonly ms: number;
      readonly balance: bigint;
      readonly nonce: number;
      readonly stateBlockIndex: number;
    }
  | { readonly event: 'txSkipped'; readonly reason: 'balance'; readonly balance: bigint }
  | { readonly event: 'txError'; readonly code: string; readonly message: string };

export interface DeviceActivity {
  readonly rounds: number;
  stop(): Promise<void>;
}

export function startDeviceActivity(
  client: LightClient,
  opts: DeviceActivityOptions,
  report: (r: DeviceActivityReport) => void,
): DeviceActivity {
  let stopped = false;
  let rounds = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  const round = async () => {
    const before = await client.account();
    if (before.account.balance < opts.amount + opts.fee) {
      report({ event: 'txSkipped', reason: 'balance', balance: before.account.balance });
      return;
    }
    const pay = opts.serviceId !== undefined && rounds % 2 === 1;
    const t0 = Date.now();
    const tx = pay
      ? await client.payService(opts.transferTo, opts.serviceId!, opts.amount, { fee: opts.fee })
      : await client.transfer(opts.transferTo, opts.amount, { fee: opts.fee });
    const status = await client.waitForGrade(tx.id, opts.grade, { timeoutMs: opts.gradeTimeoutMs });
    const ms = Date.now() - t0;
    const after = await client.account();
    report({
      event: 'tx',
      kind: pay ? 'payService' : 'transfer',
      id: tx.id,
      grade: status.grade,
      height: status.height,
      ms,
      balance: after.account.balance,
      nonce: after.account.nonce,
      stateBlockIndex: after.stateBlockIndex,
    });
  };

  const loop = (async () => {
    while (!stopped) {
      await sleep(opts.everyMs);
      if (stopped) break;
      try {
        await round();
      } catch (err) {
        if (stopped) break;
        const e = err instanceof IosnetError ? err : undefined;
        report({
          event: 'txError',
          code: e?.code ?? 'DEVICE_ERROR',
          message: (err as Error).message ?? String(err),
        });
      }
      rounds++;
    }
  })();

  return {
    get rounds() {
      return rounds;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
