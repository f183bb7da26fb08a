// A first-in first-out queue with O(1) shift, for the pool's pending work.

/** A FIFO queue backed by an array and a head index. */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many items are queued. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an item at the back. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The front item, left in place, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** The item `index` places behind the front (0 is the front), left in place, or `undefined` past the back. */
  at(index: number): T | undefined {
    return this.#items[this.#head + index];
  }

  /** Removes and returns the front item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns every item, front first. */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}
