import { describe, expect, it } from "vitest";
import { AsyncQueue } from "./async-queue.ts";

async function take<T>(queue: AsyncQueue<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  for await (const item of queue) {
    out.push(item);
    if (out.length === count) break;
  }
  return out;
}

describe("AsyncQueue", () => {
  it("hands over what was pushed before and while the consumer waits, in order", async () => {
    let taken = 0;
    const queue = new AsyncQueue<number>({ onTake: () => taken++ });
    queue.push(1);
    queue.push(2);
    const items = take(queue, 4);
    await Promise.resolve();
    queue.push(3);
    queue.push(4);
    expect(await items).toEqual([1, 2, 3, 4]);
    expect(taken).toBe(4);
    expect(queue.length).toBe(0);
  });

  it("ends a waiting consumer, and refuses items once ended", async () => {
    const queue = new AsyncQueue<string>();
    const items = take(queue, 10);
    queue.push("a");
    queue.end();
    expect(await items).toEqual(["a"]);
    expect(queue.push("b")).toBe(false);
    expect(queue.ended).toBe(true);
  });

  it("throws an ending error after the items already queued", async () => {
    const queue = new AsyncQueue<string>();
    queue.push("a");
    queue.end(new Error("stream failed"));
    const seen: string[] = [];
    await expect(async () => {
      for await (const item of queue) seen.push(item);
    }).rejects.toThrow("stream failed");
    expect(seen).toEqual(["a"]);
  });

  it("rejects a waiting consumer when it ends with an error", async () => {
    const queue = new AsyncQueue<string>();
    const iterator = queue[Symbol.asyncIterator]();
    const pending = iterator.next();
    queue.end(new Error("aborted"));
    await expect(pending).rejects.toThrow("aborted");
  });

  it("has one consumer, and gives nothing more once that consumer stopped", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    expect(await take(queue, 1)).toEqual([1]);
    expect(() => queue[Symbol.asyncIterator]()).toThrow(/single consumer/);
  });
});
