/**
 * A binary heap over an array. `before(a, b)` is true when a must come out first. With `onMove`, every item
 * is told its index whenever it moves, so an item whose key changed, or that must leave, is found in O(1)
 * and fixed in O(log n) (the mempool's per-sender tail heap needs both).
 */
export class BinaryHeap<T> {
  private items: T[] = [];

  constructor(
    private readonly before: (a: T, b: T) => boolean,
    private readonly onMove?: (item: T, index: number) => void,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** The item at heap index i (0 = top); children of i are 2i+1 and 2i+2. */
  at(i: number): T | undefined {
    return this.items[i];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    return this.items.length === 0 ? undefined : this.removeAt(0);
  }

  /** Removes the item at index i and returns it. */
  removeAt(i: number): T {
    const items = this.items;
    const out = items[i]!;
    const last = items.pop()!;
    if (i < items.length) {
      items[i] = last;
      this.onMove?.(last, i);
      // The moved item may belong above or below its new place.
      if (!this.up(i)) this.down(i);
    }
    return out;
  }

  /** The item at index i changed its key: restore the order. */
  updateAt(i: number): void {
    if (!this.up(i)) this.down(i);
  }

  /** Takes `items` (the array is owned by the heap from now on) and orders it in O(n) (Floyd). */
  reset(items: T[]): void {
    this.items = items;
    if (this.onMove) for (let i = 0; i < items.length; i++) this.onMove(items[i]!, i);
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Sifts up from i; true if the item moved. */
  private up(i: number): boolean {
    const items = this.items;
    const item = items[i]!;
    const start = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!this.before(item, p)) break;
      items[i] = p;
      this.onMove?.(p, i);
      i = parent;
    }
    items[i] = item;
    this.onMove?.(item, i);
    return i !== start;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.before(items[right]!, items[child]!)) child = right;
      const c = items[child]!;
      if (!this.before(c, item)) break;
      items[i] = c;
      this.onMove?.(c, i);
      i = child;
    }
    items[i] = item;
    this.onMove?.(item, i);
  }
}
