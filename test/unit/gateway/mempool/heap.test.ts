/** BinaryHeap against a sorted array, under random pushes, pops, removals and key changes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryHeap } from '../../../../gateway/mempool/heap.js';

interface Item {
  key: number;
  readonly id: number;
  index: number;
}

const before = (a: Item, b: Item) => a.key < b.key || (a.key === b.key && a.id < b.id);
const sorted = (items: Item[]) => [...items].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));

const op = fc.oneof(
  fc.record({ op: fc.constant('push' as const), key: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ op: fc.constant('pop' as const) }),
  fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('update' as const), pick: fc.nat(), key: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ op: fc.constant('reset' as const), keys: fc.array(fc.integer({ min: 0, max: 20 })) }),
);

describe('BinaryHeap', () => {
  it('pops in order and tracks every index through pushes, removals, updates and resets', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new BinaryHeap<Item>(before, (item, i) => {
          item.index = i;
        });
        let live: Item[] = [];
        let nextId = 0;
        for (const o of ops) {
          if (o.op === 'push') {
            const item = { key: o.key, id: nextId++, index: -1 };
            heap.push(item);
            live.push(item);
          } else if (o.op === 'pop') {
            const expected = sorted(live)[0];
            expect(heap.pop()).toBe(expected);
            live = live.filter((x) => x !== expected);
          } else if (o.op === 'reset') {
            live = o.keys.map((key) => ({ key, id: nextId++, index: -1 }));
            heap.reset([...live]);
          } else if (live.length > 0) {
            const item = live[o.pick % live.length]!;
            if (o.op === 'remove') {
              expect(heap.removeAt(item.index)).toBe(item);
              live = live.filter((x) => x !== item);
            } else {
              item.key = o.key;
              heap.updateAt(item.index);
            }
          }
          expect(heap.size).toBe(live.length);
          expect(heap.peek()).toBe(sorted(live)[0]);
          for (const item of live) expect(heap.at(item.index)).toBe(item);
        }
        const drained: Item[] = [];
        for (let x = heap.pop(); x !== undefined; x = heap.pop()) drained.push(x);
        expect(drained).toEqual(sorted(live));
      }),
      { numRuns: 300 },
    );
  });
});
