/**
 * A single-consumer async queue: producers push without waiting, the consumer iterates. The consumer is
 * woken at once for each item (no batching delay). The queue can end normally or with an error, which
 * the consumer's iteration then throws after the items already queued.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  #error: unknown;
  #iterating = false;

  get length(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Adds an item; returns false (and drops it) once the queue has ended. */
  push(item: T): boolean {
    if (this.#ended) return false;
    this.#items.push(item);
    this.#signal();
    return true;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new Error("AsyncQueue has a single consumer");
    this.#iterating = true;
    while (true) {
      if (this.#head < this.#items.length) {
        const item = this.#items[this.#head++]!;
        if (this.#head === this.#items.length) {
          // Drained: let go of every consumed item (audio events are large) instead of keeping up to 1024.
          this.#items = [];
          this.#head = 0;
        } else if (this.#head >= 1024) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        yield item;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
