/**
 * The order and consistency rules of a Nova Sonic input stream, checked event by event as the service
 * checks them: sessionStart -> promptStart -> system prompt -> history (first USER) -> audio, with
 * interactive USER text and tool results allowed while audio streams, then contentEnd (audio) ->
 * promptEnd -> sessionEnd. A breach throws ProtocolViolation (a ValidationException for the client);
 * accepted events come back as the effect they have on the conversation.
 */
import type {
  AudioOutputConfiguration,
  EndpointingSensitivity,
  InferenceConfiguration,
  NovaInputMessage,
  NovaSampleRateHz,
} from "../../shared/nova-events.ts";

export class ProtocolViolation extends Error {
  override readonly name = "ProtocolViolation";
}

export interface HistoryLimits {
  maxMessages: number;
  maxMessageBytes: number;
}

/** Reported limits for conversation history: about 40 messages of about 1 KB. */
export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { maxMessages: 40, maxMessageBytes: 1024 };

export interface DeclaredTool {
  name: string;
  description: string;
}

export type InputEffect =
  | { kind: "none" }
  | {
      kind: "session_start";
      inference: InferenceConfiguration;
      endpointingSensitivity: EndpointingSensitivity | undefined;
    }
  | { kind: "prompt_start"; promptName: string; output: AudioOutputConfiguration; tools: DeclaredTool[] }
  | { kind: "system_prompt"; text: string }
  | { kind: "history"; role: "USER" | "ASSISTANT"; text: string }
  | { kind: "audio_start"; sampleRateHz: NovaSampleRateHz }
  | { kind: "audio"; pcm: Uint8Array }
  | { kind: "audio_end" }
  | { kind: "user_text"; text: string }
  | { kind: "tool_result"; toolUseId: string; content: string }
  | { kind: "prompt_end" }
  | { kind: "session_end" };

type OpenContent =
  | { type: "TEXT"; role: string; interactive: boolean; text: string }
  | { type: "AUDIO" }
  | { type: "TOOL"; toolUseId: string; content: string };

type Phase = "awaiting_session" | "awaiting_prompt" | "prompt_open" | "prompt_ended" | "session_ended";

export class InputProtocol {
  readonly #limits: HistoryLimits;
  #phase: Phase = "awaiting_session";
  #promptName = "";
  #open = new Map<string, OpenContent>();
  #usedNames = new Set<string>();
  #anyContent = false;
  #systemSeen = false;
  #audioStarted = false;
  #historyCount = 0;
  /** Tool uses the model has issued and not yet seen answered. */
  readonly pendingToolUses = new Set<string>();

  constructor(limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {
    this.#limits = limits;
  }

  get phase(): Phase {
    return this.#phase;
  }

  accept(message: NovaInputMessage): InputEffect {
    if (this.#phase === "session_ended") throw new ProtocolViolation(`${message.kind} after sessionEnd`);
    switch (message.kind) {
      case "sessionStart": {
        this.#expectPhase("awaiting_session", "sessionStart must be the first event, and come once");
        this.#phase = "awaiting_prompt";
        return {
          kind: "session_start",
          inference: message.body.inferenceConfiguration,
          endpointingSensitivity: message.body.turnDetectionConfiguration?.endpointingSensitivity,
        };
      }
      case "promptStart": {
        this.#expectPhase("awaiting_prompt", "promptStart must follow sessionStart, once");
        const { promptName, audioOutputConfiguration, toolConfiguration, toolUseOutputConfiguration } =
          message.body;
        const tools = toolConfiguration?.tools ?? [];
        if (tools.length > 0 && !toolUseOutputConfiguration) {
          throw new ProtocolViolation("toolConfiguration needs toolUseOutputConfiguration");
        }
        const names = new Set<string>();
        for (const { toolSpec } of tools) {
          if (names.has(toolSpec.name))
            throw new ProtocolViolation(`tool ${toolSpec.name} is declared twice`);
          names.add(toolSpec.name);
          if (!isJsonObject(toolSpec.inputSchema.json)) {
            throw new ProtocolViolation(`tool ${toolSpec.name}: inputSchema.json is not a JSON object`);
          }
        }
        this.#promptName = promptName;
        this.#phase = "prompt_open";
        return {
          kind: "prompt_start",
          promptName,
          output: audioOutputConfiguration,
          tools: tools.map(({ toolSpec }) => ({ name: toolSpec.name, description: toolSpec.description })),
        };
      }
      case "contentStart":
        return this.#contentStart(message.body);
      case "textInput":
      case "toolResult": {
        const content = this.#openContent(message.body.promptName, message.body.contentName, message.kind);
        if (message.kind === "textInput" && content.type === "TEXT") content.text += message.body.content;
        else if (message.kind === "toolResult" && content.type === "TOOL")
          content.content += message.body.content;
        else
          throw new ProtocolViolation(`${message.kind} does not belong in a ${content.type} content block`);
        return { kind: "none" };
      }
      case "audioInput": {
        const content = this.#openContent(message.body.promptName, message.body.contentName, message.kind);
        if (content.type !== "AUDIO")
          throw new ProtocolViolation("audioInput belongs in an AUDIO content block");
        return { kind: "audio", pcm: message.pcm };
      }
      case "contentEnd":
        return this.#contentEnd(message.body.promptName, message.body.contentName);
      case "promptEnd": {
        this.#expectPhase("prompt_open", "promptEnd must close an open prompt");
        this.#checkPrompt(message.body.promptName);
        if (this.#open.size > 0) {
          throw new ProtocolViolation(`promptEnd while content ${[...this.#open.keys()].join(", ")} is open`);
        }
        this.#phase = "prompt_ended";
        return { kind: "prompt_end" };
      }
      case "sessionEnd":
        this.#expectPhase("prompt_ended", "sessionEnd must follow promptEnd");
        this.#phase = "session_ended";
        return { kind: "session_end" };
    }
  }

  #contentStart(body: Extract<NovaInputMessage, { kind: "contentStart" }>["body"]): InputEffect {
    this.#expectPhase("prompt_open", "contentStart needs an open prompt");
    this.#checkPrompt(body.promptName);
    if (this.#usedNames.has(body.contentName)) {
      throw new ProtocolViolation(`contentName ${body.contentName} was already used`);
    }
    const others = [...this.#open.values()];
    if (body.type === "AUDIO") {
      if (others.some((content) => content.type === "AUDIO")) {
        throw new ProtocolViolation("an AUDIO content block is already open");
      }
      this.#audioStarted = true;
      this.#register(body.contentName, { type: "AUDIO" });
      return { kind: "audio_start", sampleRateHz: body.audioInputConfiguration.sampleRateHertz };
    }
    if (others.some((content) => content.type !== "AUDIO")) {
      throw new ProtocolViolation("a TEXT or TOOL content block is already open");
    }
    if (body.type === "TOOL") {
      const { toolUseId } = body.toolResultInputConfiguration;
      if (!this.pendingToolUses.has(toolUseId)) {
        throw new ProtocolViolation(`toolUseId ${toolUseId} does not match a pending tool use`);
      }
      this.#register(body.contentName, { type: "TOOL", toolUseId, content: "" });
      return { kind: "none" };
    }
    const { role, interactive } = body;
    if (role === "SYSTEM") {
      if (this.#anyContent || interactive) {
        throw new ProtocolViolation("the SYSTEM prompt must be the first content, non-interactive");
      }
      this.#systemSeen = true;
    } else if (role === "SYSTEM_SPEECH") {
      if (!this.#systemSeen || this.#audioStarted || interactive) {
        throw new ProtocolViolation("a SYSTEM_SPEECH prompt must follow the system prompt, before audio");
      }
    } else if (!interactive) {
      if (this.#audioStarted) throw new ProtocolViolation("history must come before audio streaming begins");
      if (this.#historyCount === 0 && role !== "USER") {
        throw new ProtocolViolation("the first history message must have the USER role");
      }
      if (++this.#historyCount > this.#limits.maxMessages) {
        throw new ProtocolViolation(`more than ${this.#limits.maxMessages} history messages`);
      }
    } else if (role !== "USER") {
      throw new ProtocolViolation(`interactive text must have the USER role, not ${role}`);
    }
    this.#register(body.contentName, { type: "TEXT", role, interactive, text: "" });
    return { kind: "none" };
  }

  #contentEnd(promptName: string, contentName: string): InputEffect {
    const content = this.#openContent(promptName, contentName, "contentEnd");
    this.#open.delete(contentName);
    switch (content.type) {
      case "AUDIO":
        return { kind: "audio_end" };
      case "TOOL":
        this.pendingToolUses.delete(content.toolUseId);
        return { kind: "tool_result", toolUseId: content.toolUseId, content: content.content };
      case "TEXT": {
        if (content.role === "SYSTEM" || content.role === "SYSTEM_SPEECH") {
          return { kind: "system_prompt", text: content.text };
        }
        if (content.interactive) return { kind: "user_text", text: content.text };
        if (new TextEncoder().encode(content.text).byteLength > this.#limits.maxMessageBytes) {
          throw new ProtocolViolation(
            `a history message is longer than ${this.#limits.maxMessageBytes} bytes`,
          );
        }
        return {
          kind: "history",
          role: content.role === "ASSISTANT" ? "ASSISTANT" : "USER",
          text: content.text,
        };
      }
    }
  }

  #register(contentName: string, content: OpenContent): void {
    this.#usedNames.add(contentName);
    this.#open.set(contentName, content);
    this.#anyContent = true;
  }

  #openContent(promptName: string, contentName: string, what: string): OpenContent {
    this.#expectPhase("prompt_open", `${what} needs an open prompt`);
    this.#checkPrompt(promptName);
    const content = this.#open.get(contentName);
    if (!content)
      throw new ProtocolViolation(`${what} for ${contentName}, which is not an open content block`);
    return content;
  }

  #checkPrompt(promptName: string): void {
    if (promptName !== this.#promptName) {
      throw new ProtocolViolation(`promptName ${promptName} does not match the open prompt`);
    }
  }

  #expectPhase(phase: Phase, rule: string): void {
    if (this.#phase !== phase) throw new ProtocolViolation(`${rule} (stream is at ${this.#phase})`);
  }
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
