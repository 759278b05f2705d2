/**
 * Fault injection for the next session(s): throttling at start (HTTP 429 or an in-stream
 * throttlingException), a model stream error or a silent stream reset after some turns or some time.
 * Driven from code (FaultPlan) or over HTTP (POST /_sim/faults with a FaultRequest as JSON).
 */
import * as v from "valibot";
import { parseJsonText, validate } from "../../shared/schema.ts";

const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000));
const common = {
  afterTurns: v.optional(count),
  afterMs: v.optional(count),
  sessions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000))),
};

const requestSchema = v.variant("kind", [
  v.strictObject({
    kind: v.literal("throttle"),
    where: v.picklist(["http", "stream"]),
    sessions: common.sessions,
  }),
  v.strictObject({ kind: v.literal("stream_error"), ...common }),
  v.strictObject({ kind: v.literal("reset"), ...common }),
]);

/** A fault and how many of the next sessions it applies to (default 1). */
export type FaultRequest = v.InferOutput<typeof requestSchema>;
type WithoutSessions<T> = T extends unknown ? Omit<T, "sessions"> : never;
export type Fault = WithoutSessions<FaultRequest>;

export function parseFaultRequest(text: string): FaultRequest {
  return validate(requestSchema, parseJsonText(text, 4096, "fault request"), "fault request", "bad_config");
}

export class FaultPlan {
  #queue: { fault: Fault; remaining: number }[] = [];

  add(request: FaultRequest): void {
    const { sessions = 1, ...fault } = request;
    this.#queue.push({ fault, remaining: sessions });
  }

  /** The faults the session being opened gets; each queued fault is used up one session at a time. */
  takeForNewSession(): Fault[] {
    const taken = this.#queue.map((entry) => entry.fault);
    for (const entry of this.#queue) entry.remaining--;
    this.#queue = this.#queue.filter((entry) => entry.remaining > 0);
    return taken;
  }

  pending(): FaultRequest[] {
    return this.#queue.map((entry) => ({ ...entry.fault, sessions: entry.remaining }));
  }

  clear(): void {
    this.#queue = [];
  }
}
