/** Checks every chain integration test makes on real gateway processes (test/helpers/gateways.ts). */
import { expect } from 'vitest';
import { IOST_UNIT } from '../../core/token.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { defaultLoadOptions, LoadGenerator } from '../../gateway/load/generator.js';
import { crypto, type TestNet } from './gateways.js';

/** Block ids at heights 1..h on every listed gateway must agree (no conflicting final blocks). */
export async function expectOneChain(net: TestNet, gateways: readonly number[], upTo: number): Promise<void> {
  for (let h = 1; h <= upTo; h++) {
    const ids = new Set<string>();
    for (const g of gateways) {
      const id = await net.blockId(g, h);
      if (id !== null) ids.add(id);
    }
    expect(ids.size, `height ${h}`).toBeLessThanOrEqual(1);
  }
}

export async function expectSupply(net: TestNet, gateways: readonly number[]): Promise<void> {
  for (const g of gateways) expect(await net.supplyIntact(g), `supply on gateway ${g}`).toBe(true);
}

export function load(net: TestNet, tps: number, gateways: readonly number[]): LoadGenerator {
  const funder = readKeyFile(net.files.bucketKeys.privateSale, crypto).key;
  return new LoadGenerator(
    { ...defaultLoadOptions(tps), accounts: 16, fundAmount: 1000n * IOST_UNIT },
    {
      crypto,
      chainId: net.files.genesis.chainId,
      funder: {
        secretKey: funder.ed25519.secretKey,
        publicKey: funder.ed25519.publicKey,
        address: funder.address,
      },
      gateways: gateways.map((g) => net.clients[g]!),
    },
  );
}
