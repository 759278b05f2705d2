/**
 * Reads the model's output events as steps of a conversation, pure: it remembers each content block's
 * role, type and generation stage (announced by contentStart) so that a textOutput or contentEnd is
 * understood in context:
 *   USER text (FINAL)          → the caller's transcript
 *   ASSISTANT text SPECULATIVE → what the agent is about to say (precedes that audio)
 *   ASSISTANT text FINAL       → what the agent said
 *   ASSISTANT audio            → reply audio
 *   toolUse                    → a tool call
 *   `{ "interrupted" : true }` or contentEnd INTERRUPTED → the caller barged in
 *   ASSISTANT contentEnd END_TURN, or completionEnd → the reply has no more audio
 */
import type { GenerationStage, NovaOutputEvent } from "../shared/nova-events.ts";

export type ReplyStep =
  | { kind: "user-text"; text: string }
  | { kind: "reply-text"; text: string }
  | { kind: "spoken-text"; text: string }
  | { kind: "reply-audio"; pcm: Uint8Array }
  | { kind: "reply-end" }
  | { kind: "interrupted" }
  | { kind: "tool-use"; toolName: string; toolUseId: string; input: string }
  | { kind: "none" };

interface ContentInfo {
  type: "TEXT" | "AUDIO" | "TOOL";
  role: "USER" | "ASSISTANT" | "TOOL";
  stage: GenerationStage | undefined;
}

const NONE: ReplyStep = { kind: "none" };

export class ModelReplies {
  readonly #contents = new Map<string, ContentInfo>();

  accept(event: NovaOutputEvent): ReplyStep {
    switch (event.kind) {
      case "contentStart":
        this.#contents.set(event.body.contentId, {
          type: event.body.type,
          role: event.body.role,
          stage: event.generationStage,
        });
        return NONE;
      case "textOutput": {
        if (event.interrupted) return { kind: "interrupted" };
        const info = this.#contents.get(event.body.contentId);
        const role = info?.role ?? event.body.role;
        const text = event.body.content;
        if (text.trim() === "") return NONE;
        if (role === "USER") return { kind: "user-text", text };
        if (role !== "ASSISTANT") return NONE;
        return info?.stage === "FINAL" ? { kind: "spoken-text", text } : { kind: "reply-text", text };
      }
      case "audioOutput":
        return { kind: "reply-audio", pcm: event.pcm };
      case "toolUse":
        return {
          kind: "tool-use",
          toolName: event.body.toolName,
          toolUseId: event.body.toolUseId,
          input: event.body.content,
        };
      case "contentEnd": {
        const info = this.#contents.get(event.body.contentId);
        this.#contents.delete(event.body.contentId);
        if (event.body.stopReason === "INTERRUPTED") return { kind: "interrupted" };
        const role = info?.role ?? "ASSISTANT";
        if (role === "ASSISTANT" && event.body.stopReason === "END_TURN") return { kind: "reply-end" };
        return NONE;
      }
      case "completionEnd":
        return { kind: "reply-end" };
      default:
        return NONE;
    }
  }
}
