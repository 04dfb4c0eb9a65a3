/**
 * Crash safety for real: a child process commits blocks in a loop and is SIGKILLed at a random moment,
 * several rounds on the same directory; after each kill the reopened node must hold every block the child
 * reported as committed, and its state must agree with its blocks.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { equalBytes } from '../../../../core/bytes.js';
import { TOTAL_SUPPLY } from '../../../../core/token.js';
import { verifyAccountProof } from '../../../../core/verify.js';
import { LmdbBlockStore } from '../../../../gateway/chain/block-store.js';
import { openDatabase } from '../../../../gateway/db/lmdb.js';
import { LmdbChainState } from '../../../../gateway/state/chain-state.js';
import { crypto, stateGenesis, tempDir, whale } from '../state/helpers.js';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const dir = tempDir('crash');
afterAll(() => dir.remove());

/** Starts the writer, kills it with SIGKILL `delayMs` after its first commit; returns the last height it printed. */
function runAndKill(delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir.path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let killing = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!killing) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own: ${err}`));
      const lines = out.split('\n').filter((l) => l.length > 0);
      resolve(lines.length === 0 ? 0 : Number(lines[lines.length - 1]));
    });
  });
}

async function check(reported: number): Promise<number> {
  const db = openDatabase({ path: dir.path });
  try {
    const state = new LmdbChainState({}, { db, crypto, genesis: stateGenesis() });
    const chain = new LmdbBlockStore({}, { db, crypto });
    const height = chain.finalizedHeight;
    // Nothing the child saw committed is lost; at most the block being written when killed is extra.
    expect(height).toBeGreaterThanOrEqual(reported);
    expect(height).toBeLessThanOrEqual(reported + 1);
    expect(state.height).toBe(height);
    expect(equalBytes(state.root(), chain.getHeader(height)!.stateRoot)).toBe(true);
    expect(state.totalSupply()).toBe(TOTAL_SUPPLY);
    for (let h = chain.prunedBelow; h <= height; h++) {
      const block = chain.getBlock(h)!;
      expect(block.block.header.height).toBe(h);
      for (const id of block.txIds) expect(chain.getTxLocation(id)?.height).toBe(h);
      if (h > 1) expect(equalBytes(block.block.header.parent, chain.getBlockId(h - 1)!)).toBe(true);
    }
    const sb = chain.latestStateBlock();
    if (sb) {
      expect(sb.toHeight).toBe(state.checkpoint);
      const proof = state.prove('account', whale().address, sb.toHeight);
      verifyAccountProof(crypto, sb.stateRoot, whale().address, proof);
    }
    return height;
  } finally {
    await db.close();
  }
}

describe('crash safety', () => {
  it('survives SIGKILL at random moments, several rounds', { timeout: 180_000 }, async () => {
    let previous = 0;
    for (let round = 0; round < 5; round++) {
      const reported = await runAndKill(300 + Math.floor(Math.random() * 1200));
      expect(reported).toBeGreaterThan(previous);
      previous = await check(reported);
    }
    expect(previous).toBeGreaterThan(8);
  });
});
