/**
 * Coded errors. Every error that crosses a boundary carries a stable `code` (what went wrong, for
 * counters and logs) and the underlying `cause`. Boundaries catch `AppError` in one handler each.
 */

export const ERROR_CODES = [
  // input from outside
  "bad_json",
  "bad_frame",
  "unknown_event",
  "frame_too_large",
  "bad_base64",
  "bad_config",
  "bad_signature",
  "bad_token",
  "protocol_version",
  // the model
  "model_validation",
  "model_throttled",
  "model_stream_error",
  "model_timeout",
  "model_stream_ended",
  "model_unavailable",
  "model_input_stream",
  // calls and plumbing
  "bridge_unavailable",
  "bridge_disconnected",
  "call_not_found",
  "call_failed",
  "twilio_api",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The code of any thrown value: an AppError's own, otherwise `internal`. */
export function errorCode(error: unknown): ErrorCode {
  return error instanceof AppError ? error.code : "internal";
}

/** A message safe to log: the error's message and the chain of causes, without stack traces. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current instanceof AppError ? `${current.code}: ${current.message}` : current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(" <- ");
}
