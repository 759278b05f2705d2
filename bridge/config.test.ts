import { describe, expect, it } from "vitest";
import { AppError } from "../shared/errors.ts";
import { CONFIG_VARIABLES, DEFAULT_SYSTEM_PROMPT, parseBridgeConfig } from "./config.ts";

const minimal = { BRIDGE_SECRET: "0123456789abcdef0123", AWS_REGION: "us-east-1" };

function problemsOf(env: Record<string, string>, readTextFile?: (path: string) => string): string {
  try {
    parseBridgeConfig(env, readTextFile);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    if (error instanceof AppError) {
      expect(error.code).toBe("bad_config");
      return error.message;
    }
  }
  throw new Error("expected the configuration to be rejected");
}

describe("parseBridgeConfig", () => {
  it("fills defaults from a minimal environment", () => {
    const config = parseBridgeConfig(minimal);
    expect(config.region).toBe("us-east-1");
    expect(config.bridgeId).toBe("bridge-us-east-1");
    expect(config.port).toBe(8081);
    expect(config.maxCalls).toBe(100);
    expect(config.model.modelId).toBe("amazon.nova-2-sonic-v1:0");
    expect(config.model.voiceId).toBe("matthew");
    expect(config.model.systemPrompt).toBe(DEFAULT_SYSTEM_PROMPT);
    expect(config.model.tools).toEqual(["get_current_time", "hang_up", "transfer"]);
    expect(config.model.endpointingSensitivity).toBe("MEDIUM");
    expect(config.model.inputSampleRateHz).toBe(8000);
    expect(config.model.outputSampleRateHz).toBe(8000);
    expect(config.model.audioInputMs).toBe(20);
    expect(config.model.idleAudioInputMs).toBe(40);
    expect(config.playbackLeadMs).toBe(100);
    expect(config.playbackSendMs).toBe(40);
    expect(config.bargeIn).toEqual({ vadEnabled: true, minSpeechMs: 500 });
    expect(config.logLevel).toBe("info");
  });

  it("reads every variable it documents", () => {
    const config = parseBridgeConfig({
      BRIDGE_HOST: "127.0.0.1",
      BRIDGE_PORT: "0",
      BRIDGE_SECRET: "a-very-long-secret-value",
      BRIDGE_ID: "eu-1",
      BRIDGE_REGION: "eu-north-1",
      AWS_REGION: "us-east-1",
      MAX_CALLS: "7",
      NOVA_MODEL_ID: "amazon.nova-sonic-v1:0",
      NOVA_VOICE_ID: "tiffany",
      NOVA_SYSTEM_PROMPT: "Be brief.",
      NOVA_GREETING_INSTRUCTION: "Say hello.",
      NOVA_TOOLS: "hang_up",
      NOVA_ENDPOINTING: "HIGH",
      NOVA_INPUT_SAMPLE_RATE_HZ: "16000",
      NOVA_OUTPUT_SAMPLE_RATE_HZ: "24000",
      NOVA_AUDIO_INPUT_MS: "40",
      NOVA_IDLE_AUDIO_INPUT_MS: "100",
      NOVA_MAX_TOKENS: "500",
      NOVA_TEMPERATURE: "0.2",
      NOVA_TOP_P: "0.5",
      PLAYBACK_LEAD_MS: "60",
      PLAYBACK_SEND_MS: "20",
      BARGE_IN_VAD: "off",
      BARGE_IN_MIN_SPEECH_MS: "300",
      LOG_LEVEL: "debug",
    });
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 0,
      bridgeId: "eu-1",
      region: "eu-north-1",
      maxCalls: 7,
      playbackLeadMs: 60,
      playbackSendMs: 20,
      bargeIn: { vadEnabled: false, minSpeechMs: 300 },
      logLevel: "debug",
      model: {
        modelId: "amazon.nova-sonic-v1:0",
        voiceId: "tiffany",
        systemPrompt: "Be brief.",
        greetingInstruction: "Say hello.",
        tools: ["hang_up"],
        endpointingSensitivity: "HIGH",
        inputSampleRateHz: 16000,
        outputSampleRateHz: 24000,
        audioInputMs: 40,
        idleAudioInputMs: 100,
        maxTokens: 500,
        temperature: 0.2,
        topP: 0.5,
      },
    });
    const documented = new Set(CONFIG_VARIABLES.map((variable) => variable.name));
    for (const name of ["BRIDGE_PORT", "NOVA_SYSTEM_PROMPT_FILE", "BARGE_IN_MIN_SPEECH_MS"]) {
      expect(documented.has(name)).toBe(true);
    }
  });

  it("packs idle audio at least as much as the audio someone waits on", () => {
    expect(parseBridgeConfig({ ...minimal, NOVA_AUDIO_INPUT_MS: "60" }).model.idleAudioInputMs).toBe(60);
    expect(() =>
      parseBridgeConfig({ ...minimal, NOVA_AUDIO_INPUT_MS: "60", NOVA_IDLE_AUDIO_INPUT_MS: "40" }),
    ).toThrow(/NOVA_IDLE_AUDIO_INPUT_MS: must be at least NOVA_AUDIO_INPUT_MS \(60\)/);
    expect(() => parseBridgeConfig({ ...minimal, NOVA_IDLE_AUDIO_INPUT_MS: "30" })).toThrow(
      /NOVA_IDLE_AUDIO_INPUT_MS/,
    );
  });

  it("keeps a frame of the lead buffered between releases", () => {
    expect(parseBridgeConfig({ ...minimal, PLAYBACK_LEAD_MS: "40" }).playbackSendMs).toBe(20);
    expect(() => parseBridgeConfig({ ...minimal, PLAYBACK_LEAD_MS: "60", PLAYBACK_SEND_MS: "60" })).toThrow(
      /PLAYBACK_SEND_MS: must be at most PLAYBACK_LEAD_MS - 20 \(40\)/,
    );
  });

  it("reads the system prompt from a file", () => {
    const config = parseBridgeConfig({ ...minimal, NOVA_SYSTEM_PROMPT_FILE: "/prompts/agent.txt" }, (path) =>
      path === "/prompts/agent.txt" ? "  You sell bicycles.\n" : "",
    );
    expect(config.model.systemPrompt).toBe("You sell bicycles.");
  });

  it("lists every problem at once", () => {
    const message = problemsOf(
      {
        BRIDGE_SECRET: "short",
        BRIDGE_PORT: "70000",
        MAX_CALLS: "many",
        NOVA_ENDPOINTING: "EXTREME",
        NOVA_INPUT_SAMPLE_RATE_HZ: "44100",
        NOVA_TOOLS: "hang_up,launch_rockets",
        NOVA_TEMPERATURE: "2",
        BARGE_IN_VAD: "maybe",
        LOG_LEVEL: "chatty",
      },
      () => "",
    );
    for (const name of [
      "BRIDGE_SECRET",
      "BRIDGE_REGION",
      "BRIDGE_PORT",
      "MAX_CALLS",
      "NOVA_ENDPOINTING",
      "NOVA_INPUT_SAMPLE_RATE_HZ",
      "launch_rockets",
      "NOVA_TEMPERATURE",
      "BARGE_IN_VAD",
      "LOG_LEVEL",
    ]) {
      expect(message).toContain(name);
    }
    expect(message).toMatch(/has 10 problem/);
  });

  it("rejects a missing secret, an unreadable prompt file and both prompt sources", () => {
    const message = problemsOf(
      { AWS_REGION: "us-east-1", NOVA_SYSTEM_PROMPT: "x", NOVA_SYSTEM_PROMPT_FILE: "/nope" },
      () => {
        throw new Error("ENOENT");
      },
    );
    expect(message).toContain("BRIDGE_SECRET: required");
    expect(message).toContain("not both");
    expect(message).toContain("cannot read /nope");
  });
});
