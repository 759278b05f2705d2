/**
 * The tools the agent can call. Each has a spec (offered to the model in promptStart) and a handler that
 * runs on the bridge. Handlers get what they need through ToolContext, never through globals, and return
 * a JSON-serialisable result; a bad input or a failing handler becomes a `{ "error": … }` result that the
 * model can talk about, never a dead call.
 */
import * as v from "valibot";
import { AppError, describeError } from "../shared/errors.ts";
import { parseJsonText, validate } from "../shared/schema.ts";

export const BUILT_IN_TOOL_NAMES = ["get_current_time", "hang_up", "transfer"] as const;
export type BuiltInToolName = (typeof BUILT_IN_TOOL_NAMES)[number];

export interface ToolSpec {
  name: string;
  description: string;
  /** A JSON schema object; Nova Sonic wants it stringified in `inputSchema.json`. */
  inputSchema: Record<string, unknown>;
}

export interface ToolContext {
  nowMs: number;
  /** Ends the call once the reply that is playing has been heard. */
  requestHangup(reason: "agent"): void;
  /**
   * Transfers the caller to a person (call-actions.ts: transfer prompt, then Twilio redirects the call);
   * absent where calls cannot be transferred.
   */
  requestTransfer?(reason: string | undefined): void;
}

interface ToolDefinition {
  spec: ToolSpec;
  run(input: unknown, context: ToolContext): Record<string, unknown>;
}

const timeInputSchema = v.object({ timeZone: v.optional(v.pipe(v.string(), v.maxLength(64))) });
const hangUpInputSchema = v.object({ reason: v.optional(v.pipe(v.string(), v.maxLength(500))) });
const transferInputSchema = v.object({ reason: v.optional(v.pipe(v.string(), v.maxLength(500))) });

const TOOLS: Record<BuiltInToolName, ToolDefinition> = {
  get_current_time: {
    spec: {
      name: "get_current_time",
      description: "Returns the current date and time, optionally in a given IANA time zone.",
      inputSchema: {
        type: "object",
        properties: { timeZone: { type: "string", description: "IANA time zone, e.g. Europe/Paris" } },
        required: [],
      },
    },
    run(input, context) {
      const { timeZone = "UTC" } = validate(timeInputSchema, input, "get_current_time input");
      let formatted: string;
      try {
        formatted = new Intl.DateTimeFormat("en-US", {
          timeZone,
          dateStyle: "full",
          timeStyle: "short",
        }).format(context.nowMs);
      } catch (cause) {
        throw new AppError("bad_frame", `unknown time zone "${timeZone}"`, { cause });
      }
      return { timeZone, isoTime: new Date(context.nowMs).toISOString(), spoken: formatted };
    },
  },
  hang_up: {
    spec: {
      name: "hang_up",
      description:
        "Ends the phone call after your current sentence has been heard. Say goodbye before calling it.",
      inputSchema: {
        type: "object",
        properties: { reason: { type: "string", description: "why the call ends" } },
        required: [],
      },
    },
    run(input, context) {
      validate(hangUpInputSchema, input, "hang_up input");
      context.requestHangup("agent");
      return { ok: true, note: "The call ends after your current sentence." };
    },
  },
  transfer: {
    spec: {
      name: "transfer",
      description:
        "Transfers the caller to a person (a human agent) when they ask for one or when you cannot help. " +
        "Tell the caller you are transferring them before calling it.",
      inputSchema: {
        type: "object",
        properties: { reason: { type: "string", description: "why the caller needs a person" } },
        required: [],
      },
    },
    run(input, context) {
      const { reason } = validate(transferInputSchema, input, "transfer input");
      if (!context.requestTransfer)
        throw new AppError("call_failed", "transfers are not available on this line");
      context.requestTransfer(reason);
      return { ok: true, note: "The caller is being transferred." };
    },
  },
};

export function toolSpecs(names: readonly BuiltInToolName[]): ToolSpec[] {
  return names.map((name) => TOOLS[name].spec);
}

export type ToolOutcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

/** Runs one tool call. `inputJson` is the toolUse `content` string the model sent. */
export function runTool(
  enabled: readonly BuiltInToolName[],
  toolName: string,
  inputJson: string,
  context: ToolContext,
): ToolOutcome {
  const name = enabled.find((known) => known === toolName);
  if (name === undefined) return { ok: false, error: `unknown tool "${toolName}"` };
  try {
    const input = inputJson.trim() === "" ? {} : parseJsonText(inputJson, 64 * 1024, "tool input");
    return { ok: true, result: TOOLS[name].run(input, context) };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}

/** The text that goes back in `toolResult.content`. */
export function toolResultContent(outcome: ToolOutcome): string {
  return JSON.stringify(outcome.ok ? outcome.result : { error: outcome.error });
}
