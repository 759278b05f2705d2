/**
 * A single-consumer async queue: producers push without waiting, the consumer iterates. A consumer waiting
 * for an item gets it straight from push() (no batching delay, no extra hop through a generator). The
 * queue can end normally or with an error, which the consumer's iteration then throws after the items
 * already queued.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #head = 0;
  #waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  #ended = false;
  #error: unknown;
  #iterating = false;
  #returned = false;
  readonly #onTake: (() => void) | undefined;

  /** `onTake`: called as the consumer takes each item (e.g. to note when input started to flow). */
  constructor(options: { onTake?: () => void } = {}) {
    this.#onTake = options.onTake;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Adds an item; returns false (and drops it) once the queue has ended. */
  push(item: T): boolean {
    if (this.#ended) return false;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      this.#onTake?.();
      waiter.resolve({ done: false, value: item });
      return true;
    }
    this.#items.push(item);
    return true;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (!waiter) return;
    if (error !== undefined) waiter.reject(error);
    else waiter.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new Error("AsyncQueue has a single consumer");
    this.#iterating = true;
    return {
      next: () => this.#next(),
      // The consumer stopped early (break, or an error of its own): nothing more will be taken.
      return: () => {
        this.#returned = true;
        this.#items = [];
        this.#head = 0;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #next(): Promise<IteratorResult<T>> {
    if (this.#returned) return Promise.resolve({ done: true, value: undefined });
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
      this.#onTake?.();
      return Promise.resolve({ done: false, value: item });
    }
    if (this.#ended) {
      return this.#error !== undefined
        ? Promise.reject(this.#error)
        : Promise.resolve({ done: true, value: undefined });
    }
    if (this.#waiter) return Promise.reject(new Error("AsyncQueue: next() called while a next() is pending"));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }
}
