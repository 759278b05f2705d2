/**
 * What the pages read from the admin API (GET /calls, GET /calls/{sid}; see edge/call-store.ts), checked
 * with valibot before anything is shown. Unknown fields are ignored, so the edge can add some.
 */
import * as v from "valibot";
import { storedTurnSchema } from "../../shared/bridge-protocol.ts";
import { validate } from "../../shared/schema.ts";

const epochMs = v.pipe(v.number(), v.finite());
const nullableText = v.nullable(v.string());

export const ACTIVE_STATUSES: readonly string[] = ["ringing", "in-progress"];

export type { TurnTimings } from "../../shared/bridge-protocol.ts";

const turnSchema = storedTurnSchema;
export type TurnView = v.InferOutput<typeof turnSchema>;

const recordSchema = v.object({
  callSid: v.string(),
  from: nullableText,
  to: nullableText,
  status: v.string(),
  endReason: nullableText,
  createdAtMs: epochMs,
  endedAtMs: v.nullable(epochMs),
  bridge: v.nullable(v.object({ id: v.string(), region: nullableText })),
  streamBridgeId: nullableText,
  sessionWarm: v.nullable(v.boolean()),
  streamEvents: v.array(v.object({ event: v.string(), detail: v.string(), atMs: epochMs })),
  transcript: v.array(
    v.object({
      turnIndex: v.number(),
      role: v.picklist(["USER", "ASSISTANT"]),
      text: v.string(),
      atMs: epochMs,
    }),
  ),
  turns: v.array(turnSchema),
});
export type CallView = v.InferOutput<typeof recordSchema>;

const listSchema = v.object({
  calls: v.array(
    v.object({ callSid: v.string(), status: v.string(), createdAtMs: epochMs, updatedAtMs: epochMs }),
  ),
});
export type CallListView = v.InferOutput<typeof listSchema>;

export function parseCallRecord(json: unknown): CallView {
  return validate(recordSchema, json, "call record");
}

export function parseCallList(json: unknown): CallListView {
  return validate(listSchema, json, "call list");
}

export function isActive(status: string): boolean {
  return ACTIVE_STATUSES.includes(status);
}

const softphoneCallSchema = v.object({
  callSid: v.pipe(v.string(), v.regex(/^CA[0-9a-fA-F]{32}$/, "expected a call SID")),
  accountSid: v.string(),
  streamPath: v.pipe(v.string(), v.regex(/^\/phone\/media\/CA[0-9a-fA-F]{32}$/, "expected a media path")),
  streamToken: v.string(),
  subprotocol: v.string(),
  streamTokenExpiresAtMs: epochMs,
});
/** What POST /phone/calls answers (edge/softphone.ts). */
export type SoftphoneCallView = v.InferOutput<typeof softphoneCallSchema>;

export function parseSoftphoneCall(json: unknown): SoftphoneCallView {
  return validate(softphoneCallSchema, json, "softphone call");
}
