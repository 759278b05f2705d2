/**
 * The simulator's voice: a small catalogue of reply sentences, rendered once with espeak-ng and sox
 * (render-replies.ts) at each Nova output rate and committed as WAV files under assets/. Which reply a
 * turn gets is decided here, deterministically, from what triggered the turn.
 */
import { readFileSync } from "node:fs";
import { AppError } from "../../shared/errors.ts";
import { NOVA_SAMPLE_RATES_HZ, type NovaSampleRateHz } from "../../shared/nova-events.ts";
import { readWav } from "./wav.ts";

export const REPLY_TEXTS = {
  greeting: "Hello, thanks for calling. How can I help you today?",
  greeting_again: "Welcome back. Where were we?",
  ack: "Sure, I can help with that.",
  hours: "We are open from nine in the morning until five in the evening, Monday to Friday.",
  more: "Could you tell me a little more about that?",
  digits: "Thanks, I got the key you pressed.",
  tool_done: "All right, that is done.",
  // The bridge's default cached prompts (bridge/config-fast-paths.ts), which it renders through the model
  // by asking for them word for word: a real model can say any text, this one can say these.
  prompt_hold: "Please hold for a moment while I look that up.",
  prompt_transfer: "I am transferring you to a colleague now. Please stay on the line.",
  prompt_apology: "Sorry, I am having trouble on my side. Please bear with me for a moment.",
  prompt_goodbye: "Thank you for calling. Goodbye!",
} as const;
export type ReplyId = keyof typeof REPLY_TEXTS;
export const REPLY_IDS = Object.keys(REPLY_TEXTS) as ReplyId[];

/** Replies for caller audio turns, in rotation. */
const AUDIO_TURN_ROTATION: readonly ReplyId[] = ["ack", "hours", "more"];

export const ASSETS_DIR = new URL("./assets/", import.meta.url);

export function replyFileName(id: ReplyId, sampleRateHz: NovaSampleRateHz): string {
  return `${id}-${sampleRateHz / 1000}k.wav`;
}

export interface ReplyAudio {
  id: ReplyId;
  text: string;
  /** 16-bit little-endian mono PCM at the rate it was loaded for. */
  pcm: Uint8Array;
  sampleRateHz: NovaSampleRateHz;
  durationMs: number;
}

/** What led to a reply. */
export type ReplyTrigger =
  | { kind: "text"; text: string }
  | { kind: "audio"; audioTurnIndex: number }
  | { kind: "tool_result"; toolName: string };

export function chooseReply(trigger: ReplyTrigger, alreadyGreeted: boolean): ReplyId {
  switch (trigger.kind) {
    case "tool_result":
      return "tool_done";
    case "audio":
      return AUDIO_TURN_ROTATION[trigger.audioTurnIndex % AUDIO_TURN_ROTATION.length] ?? "ack";
    case "text": {
      // Asked to say one of its lines word for word (a prompt being rendered): that line.
      const quoted = REPLY_IDS.find((id) => trigger.text.includes(REPLY_TEXTS[id]));
      if (quoted) return quoted;
      if (/\b(press(ed)?|digit|key|dtmf)\b/i.test(trigger.text)) return "digits";
      if (/\b(connect(ed)?|greet|hello|hi)\b/i.test(trigger.text)) {
        return alreadyGreeted ? "greeting_again" : "greeting";
      }
      return "ack";
    }
  }
}

/** Every reply at every rate, read from the committed assets (about 1 MB of PCM). */
export class ReplyLibrary {
  readonly #byKey = new Map<string, ReplyAudio>();

  static load(dir: URL = ASSETS_DIR): ReplyLibrary {
    const library = new ReplyLibrary();
    for (const id of REPLY_IDS) {
      for (const sampleRateHz of NOVA_SAMPLE_RATES_HZ) {
        const file = new URL(replyFileName(id, sampleRateHz), dir);
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(file);
        } catch (cause) {
          throw new AppError("bad_config", `reply asset ${file.pathname} is missing`, { cause });
        }
        const wav = readWav(bytes, file.pathname);
        if (wav.sampleRateHz !== sampleRateHz) {
          throw new AppError(
            "bad_config",
            `${file.pathname}: expected ${sampleRateHz} Hz, got ${wav.sampleRateHz}`,
          );
        }
        const pcm = wav.pcm;
        const durationMs = (pcm.byteLength / 2 / sampleRateHz) * 1000;
        library.#byKey.set(`${id}@${sampleRateHz}`, {
          id,
          text: REPLY_TEXTS[id],
          pcm,
          sampleRateHz,
          durationMs,
        });
      }
    }
    return library;
  }

  get(id: ReplyId, sampleRateHz: NovaSampleRateHz): ReplyAudio {
    const reply = this.#byKey.get(`${id}@${sampleRateHz}`);
    if (!reply) throw new AppError("internal", `reply ${id} at ${sampleRateHz} Hz is not loaded`);
    return reply;
  }
}
