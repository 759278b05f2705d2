/**
 * What arrives on a call's WebSocket from the edge, classified: a Twilio frame (relayed untouched), one of
 * our control messages (first key `bridge`), or a frame that ends the call with a named close code.
 * Pure; the server counts the invalid ones.
 */
import {
  BridgeCloseCode,
  type EdgeControl,
  isControlFrame,
  MAX_CONTROL_FRAME_CHARS,
  parseEdgeControl,
} from "../shared/bridge-protocol.ts";
import { AppError, describeError, errorCode } from "../shared/errors.ts";
import { MAX_TWILIO_FRAME_CHARS, parseTwilioInbound, type TwilioInbound } from "../shared/twilio-media.ts";
import { parseTwilioMediaFast } from "./twilio-media-fast.ts";

export type EdgeFrame =
  | { kind: "twilio"; message: TwilioInbound }
  | { kind: "control"; message: EdgeControl }
  | {
      kind: "invalid";
      closeCode: typeof BridgeCloseCode.PROTOCOL_ERROR | typeof BridgeCloseCode.MESSAGE_TOO_BIG;
      error: AppError;
    };

function invalid(error: AppError): EdgeFrame {
  const closeCode =
    error.code === "frame_too_large" ? BridgeCloseCode.MESSAGE_TOO_BIG : BridgeCloseCode.PROTOCOL_ERROR;
  return { kind: "invalid", closeCode, error };
}

export function classifyEdgeFrame(data: string | Uint8Array, isBinary: boolean): EdgeFrame {
  if (isBinary || typeof data !== "string") {
    return invalid(new AppError("bad_frame", "binary frame: the edge sends JSON text frames only"));
  }
  const control = isControlFrame(data);
  const limit = control ? MAX_CONTROL_FRAME_CHARS : MAX_TWILIO_FRAME_CHARS;
  if (data.length > limit) {
    return invalid(new AppError("frame_too_large", `frame of ${data.length} characters exceeds ${limit}`));
  }
  if (!control) {
    const media = parseTwilioMediaFast(data);
    if (media) return { kind: "twilio", message: media };
  }
  try {
    return control
      ? { kind: "control", message: parseEdgeControl(data) }
      : { kind: "twilio", message: parseTwilioInbound(data) };
  } catch (error) {
    if (error instanceof AppError) return invalid(error);
    return invalid(new AppError(errorCode(error), describeError(error), { cause: error }));
  }
}
