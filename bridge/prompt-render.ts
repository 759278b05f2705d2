/**
 * Renders a prompt once through Nova Sonic, in the deployment's voice: a session of its own whose system
 * prompt makes the model a reader, one interactive USER text asking it to say the line, and the reply's
 * audio (audioOutput) and its ASSISTANT FINAL text (what the model says it spoke) captured until the end
 * of the turn. Silence is streamed as the caller's audio meanwhile, as in a call. The audio comes back as
 * 8 kHz μ-law in whole 20 ms frames.
 */
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { AppError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { pcm16FromLittleEndianBytes } from "./audio-paths.ts";
import type { ModelConfig } from "./config.ts";
import { ModelReplies } from "./model-replies.ts";
import { NovaSession } from "./nova/session.ts";
import { toMulawFrames } from "./prompt-audio.ts";

export const RENDER_SYSTEM_PROMPT =
  "You are the voice of a telephone line. When you are given a line to read, say it exactly as written, " +
  "word for word, in a warm and natural voice, and say nothing else.";

export function renderInstruction(text: string): string {
  return `Read this line aloud exactly as written, and nothing else: "${text}"`;
}

export interface RenderedPrompt {
  /** 8 kHz μ-law, whole 20 ms frames. */
  mulaw: Uint8Array;
  /** The model's ASSISTANT FINAL text (its SPECULATIVE text if no FINAL came). */
  spokenText: string;
}

const SILENCE_EVERY_MS = 100;
const DEFAULT_TIMEOUT_MS = 30_000;

export async function renderPrompt(args: {
  client: BedrockRuntimeClient;
  model: ModelConfig;
  text: string;
  logger: Logger;
  now: () => number;
  timeoutMs?: number;
}): Promise<RenderedPrompt> {
  const { model } = args;
  const session = NovaSession.open(
    {
      modelId: model.modelId,
      voiceId: model.voiceId,
      systemPrompt: RENDER_SYSTEM_PROMPT,
      inputSampleRateHz: model.inputSampleRateHz,
      outputSampleRateHz: model.outputSampleRateHz,
      endpointingSensitivity: model.endpointingSensitivity,
      maxTokens: model.maxTokens,
      temperature: 0,
      topP: model.topP,
    },
    { client: args.client, logger: args.logger, now: args.now },
  );
  const silence = Buffer.alloc(((model.inputSampleRateHz * SILENCE_EVERY_MS) / 1000) * 2).toString("base64");
  session.startAudio();
  session.sendAudio(silence);
  const feeder = setInterval(() => session.sendAudio(silence), SILENCE_EVERY_MS);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AppError("model_unavailable", "rendering the prompt timed out")),
      args.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
  });
  try {
    session.sendText(renderInstruction(args.text));
    return await Promise.race([collect(session, model.outputSampleRateHz), timeout]);
  } finally {
    clearInterval(feeder);
    clearTimeout(timer);
    await session.close();
  }
}

/** After the reply's audio has ended, how long to wait for its FINAL text. */
const FINAL_TEXT_GRACE_MS = 2000;

async function collect(session: NovaSession, outputSampleRateHz: number): Promise<RenderedPrompt> {
  const replies = new ModelReplies();
  const audio: Uint8Array[] = [];
  const spoken: string[] = [];
  const planned: string[] = [];
  let graceTimer: NodeJS.Timeout | undefined;
  let endGrace: () => void = () => {};
  const grace = new Promise<void>((resolve) => {
    endGrace = resolve;
  });
  const read = async (): Promise<void> => {
    let audioEnded = false;
    for await (const event of session.events()) {
      const step = replies.accept(event);
      if (step.kind === "reply-audio" && !audioEnded) audio.push(step.pcm);
      else if (step.kind === "spoken-text") spoken.push(step.text.trim());
      else if (step.kind === "reply-text") planned.push(step.text.trim());
      else if (step.kind === "tool-use") throw new AppError("model_validation", "the model called a tool");
      else if (step.kind === "reply-end" && audio.length > 0 && !audioEnded) {
        audioEnded = true;
        graceTimer = setTimeout(endGrace, FINAL_TEXT_GRACE_MS);
      }
      if (audioEnded && spoken.length > 0) return;
    }
  };
  try {
    await Promise.race([read(), grace]);
  } finally {
    clearTimeout(graceTimer);
  }
  if (audio.length === 0)
    throw new AppError("model_stream_ended", "the model ended without speaking the prompt");
  const pcm = pcm16FromLittleEndianBytes(new Uint8Array(Buffer.concat(audio)));
  return {
    mulaw: toMulawFrames(pcm, outputSampleRateHz),
    spokenText: (spoken.length > 0 ? spoken : planned).join(" ").trim(),
  };
}
