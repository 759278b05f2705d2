/**
 * Messages between the softphone page and its audio worklet, one discriminated union per direction and
 * port, with a parse…() for each one a side receives (structured clones, but still checked).
 */
import { AppError } from "../../../shared/errors.ts";

export const CAPTURE_PROCESSOR = "softphone-capture";
export const PLAYBACK_PROCESSOR = "softphone-playback";

/** page → capture */
export type CaptureCommand = { type: "mute"; muted: boolean } | { type: "stop" };
/** capture → page: one 20 ms frame of 8 kHz μ-law (160 bytes). */
export type CaptureEvent = { type: "frame"; mulaw: Uint8Array };
/** page → playback */
export type PlaybackCommand =
  | { type: "media"; mulaw: Uint8Array }
  | { type: "mark"; name: string }
  | { type: "clear" }
  | { type: "stop" };
/** playback → page: marks whose audio has played (or were cleared), and what has played so far. */
export type PlaybackEvent =
  | { type: "marks"; names: string[] }
  | { type: "stats"; playedMs: number; bufferedMs: number };

/** A field of a received message (own properties only). */
function field(data: object, key: string): unknown {
  const value: unknown = Object.getOwnPropertyDescriptor(data, key)?.value;
  return value;
}
function message(data: unknown, what: string): { data: object; type: unknown } {
  if (typeof data !== "object" || data === null) throw new AppError("bad_frame", `${what}: not a message`);
  return { data, type: field(data, "type") };
}
function bytes(data: object, what: string): Uint8Array {
  const value = field(data, "mulaw");
  if (!(value instanceof Uint8Array)) throw new AppError("bad_frame", `${what}: mulaw must be a Uint8Array`);
  return value;
}
function text(data: object, key: string, what: string): string {
  const value = field(data, key);
  if (typeof value !== "string") throw new AppError("bad_frame", `${what}: ${key} must be a string`);
  return value;
}
function number(data: object, key: string, what: string): number {
  const value = field(data, key);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new AppError("bad_frame", `${what}: ${key} must be a number`);
  }
  return value;
}

export function parseCaptureCommand(data: unknown): CaptureCommand {
  const m = message(data, "capture command");
  if (m.type === "mute") return { type: "mute", muted: field(m.data, "muted") === true };
  if (m.type === "stop") return { type: "stop" };
  throw new AppError("bad_frame", `capture command: unknown type ${String(m.type)}`);
}

export function parseCaptureEvent(data: unknown): CaptureEvent {
  const m = message(data, "capture event");
  if (m.type === "frame") return { type: "frame", mulaw: bytes(m.data, "capture event") };
  throw new AppError("bad_frame", `capture event: unknown type ${String(m.type)}`);
}

export function parsePlaybackCommand(data: unknown): PlaybackCommand {
  const m = message(data, "playback command");
  switch (m.type) {
    case "media":
      return { type: "media", mulaw: bytes(m.data, "playback command") };
    case "mark":
      return { type: "mark", name: text(m.data, "name", "playback command") };
    case "clear":
      return { type: "clear" };
    case "stop":
      return { type: "stop" };
    default:
      throw new AppError("bad_frame", `playback command: unknown type ${String(m.type)}`);
  }
}

export function parsePlaybackEvent(data: unknown): PlaybackEvent {
  const m = message(data, "playback event");
  if (m.type === "marks") {
    const names = field(m.data, "names");
    if (!Array.isArray(names) || !names.every((name) => typeof name === "string")) {
      throw new AppError("bad_frame", "playback event: names must be strings");
    }
    return { type: "marks", names };
  }
  if (m.type === "stats") {
    return {
      type: "stats",
      playedMs: number(m.data, "playedMs", "playback event"),
      bufferedMs: number(m.data, "bufferedMs", "playback event"),
    };
  }
  throw new AppError("bad_frame", `playback event: unknown type ${String(m.type)}`);
}
