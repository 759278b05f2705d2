/**
 * Cached prompts in calls through the bridge (real WebSocket, the simulator behind the real AWS SDK):
 * the greeting plays from the cache the moment Twilio's `start` arrives and the model gets it as history
 * instead of being asked to greet; barge-in cuts a cached greeting like any reply; a slow tool of the
 * deployer's gets the hold prompt until its result; hang_up plays the cached goodbye and ends the call.
 * The prompts are WAV files at 16, 24 and 8 kHz (the simulator's own voice), converted on load.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CustomTool } from "../bridge/call-actions.ts";
import { DEFAULT_GREETING_INSTRUCTION } from "../bridge/config.ts";
import { REPLY_TEXTS } from "../bridge/simulator/replies.ts";
import { BridgeCloseCode } from "../shared/bridge-protocol.ts";
import { BridgePhone } from "./bridge-phone.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";
import { loadAudioFixture } from "./fixtures/fixtures.ts";

const asset = (name: string) => fileURLToPath(new URL(`../bridge/simulator/assets/${name}`, import.meta.url));
const logs: Array<Record<string, unknown>> = [];

/** A deployer's tool that takes a while (an order lookup in a slow back office). */
const lookupOrder: CustomTool = {
  spec: {
    name: "lookup_order",
    description: "Looks up the status of the caller's order.",
    inputSchema: { type: "object", properties: {}, required: [] },
  },
  run: async (_input, { signal }) => {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    if (signal.aborted) throw new Error("abandoned");
    return { status: "shipped" };
  },
};

let stack: BridgeStack;
beforeAll(async () => {
  stack = await startBridgeStack({
    env: {
      PROMPTS: "greeting,hold,goodbye",
      PROMPT_GREETING_FILE: asset("greeting-16k.wav"),
      PROMPT_HOLD_TEXT: REPLY_TEXTS.more,
      PROMPT_HOLD_FILE: asset("more-24k.wav"),
      PROMPT_GOODBYE_TEXT: REPLY_TEXTS.tool_done,
      PROMPT_GOODBYE_FILE: asset("tool_done-8k.wav"),
      HOLD_AFTER_MS: "100",
    },
    bridge: { tools: [lookupOrder] },
    simulator: {
      toolTriggers: [
        { keyword: "order status", toolName: "lookup_order", input: {} },
        { keyword: "account number", toolName: "hang_up", input: { reason: "done" } },
      ],
    },
    logLevel: "info",
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
});
afterAll(async () => stack?.close());

describe("cached prompts", () => {
  it("greets from the cache at Twilio's start, and gives the model the greeting as history", async () => {
    const heard: Uint8Array[] = [];
    const phone = await BridgePhone.connect({
      baseUrl: stack.bridge.url,
      secret: TEST_SECRET,
      onMedia: (bytes) => heard.push(bytes),
    });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    const greeting = stack.bridge.fastPaths.prompts!.get("greeting")!;
    const [turn] = phone.controlsOf("turn");
    expect(turn).toMatchObject({
      turnIndex: 0,
      cachedPrompt: "greeting",
      assistantText: REPLY_TEXTS.greeting,
      heardText: REPLY_TEXTS.greeting,
      interrupted: false,
      heardMs: greeting.durationMs,
    });
    expect(turn!.timings.firstFrameSentMs).toBeGreaterThanOrEqual(turn!.timings.streamStartMs!);
    // What the caller heard first is the cached audio, frame for frame.
    expect(Buffer.concat(heard).subarray(0, greeting.mulaw.length)).toEqual(Buffer.from(greeting.mulaw));
    expect(logs).toContainEqual(expect.objectContaining({ msg: "greeting first audio", source: "cache" }));

    // The model was not asked to greet: its session starts with the greeting as history.
    const yes = loadAudioFixture("yes-please", "speech");
    await phone.say(yes.mulaw);
    await phone.waitFor(() => phone.controlsOf("turn").length === 2, 15_000, "the answer");
    expect(phone.controlsOf("turn")[1]).toMatchObject({ userText: yes.text, assistantText: REPLY_TEXTS.ack });
    const record = stack.simulator.sessions
      .list()
      .find((r) => r.turns.some((t) => t.transcript === yes.text));
    expect(record?.history).toEqual([
      { role: "USER", text: DEFAULT_GREETING_INSTRUCTION },
      { role: "ASSISTANT", text: REPLY_TEXTS.greeting },
    ]);
    expect(record?.turns.map((t) => t.trigger)).toEqual(["audio"]);
    await phone.hangUp();
    const metrics = (await (await fetch(`${stack.bridge.url}/metrics`)).json()) as {
      greetingFirstAudioMs: { cache: { count: number } };
      prompts: Record<string, { state: string; source: string }>;
    };
    expect(metrics.greetingFirstAudioMs.cache.count).toBeGreaterThanOrEqual(1);
    expect(metrics.prompts.greeting).toMatchObject({ state: "ready", source: "file" });
  }, 40_000);

  it("lets the caller cut the cached greeting, recording what was heard of it", async () => {
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    const yes = loadAudioFixture("yes-please", "speech");
    await phone.say(yes.mulaw);
    await phone.waitFor(() => phone.controlsOf("turn").length === 2, 15_000, "the answer");
    const [greeting, answer] = phone.controlsOf("turn");
    expect(greeting).toMatchObject({ cachedPrompt: "greeting", interrupted: true, interruptedBy: "vad" });
    expect(greeting!.heardMs).toBeLessThan(greeting!.replyMs);
    expect(REPLY_TEXTS.greeting.startsWith(greeting!.heardText)).toBe(true);
    expect(greeting!.heardText.length).toBeLessThan(REPLY_TEXTS.greeting.length);
    expect(answer).toMatchObject({ userText: yes.text, assistantText: REPLY_TEXTS.ack });
    expect(phone.clears.length).toBeGreaterThanOrEqual(1);
    await phone.hangUp();
  }, 30_000);

  it("plays the hold prompt while a slow tool runs, then the answer", async () => {
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    const order = loadAudioFixture("order-status", "speech");
    await phone.say(order.mulaw);
    await phone.waitFor(
      () => phone.controlsOf("turn").some((t) => t.assistantText === REPLY_TEXTS.tool_done),
      20_000,
      "the answer after the tool",
    );
    const turns = phone.controlsOf("turn");
    const hold = turns.find((t) => t.cachedPrompt === "hold");
    expect(hold).toMatchObject({ userText: order.text, assistantText: REPLY_TEXTS.more });
    expect(hold!.heardMs).toBeGreaterThan(0);
    expect(turns.at(-1)).toMatchObject({ assistantText: REPLY_TEXTS.tool_done, interrupted: false });
    expect(turns.at(-1)!.turnIndex).toBeGreaterThan(hold!.turnIndex);
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: "tool used", toolName: "lookup_order", ok: true, held: true }),
    );
    expect(phone.closeCode).toBeNull();
    await phone.hangUp();
  }, 40_000);

  it("says the cached goodbye when the agent hangs up without a word, then ends the call", async () => {
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    const account = loadAudioFixture("account-number", "speech");
    await phone.say(account.mulaw);
    expect(await phone.closed).toBe(BridgeCloseCode.CALL_ENDED);
    expect(phone.controlsOf("hangup")).toEqual([{ bridge: "hangup", reason: "agent" }]);
    const last = phone.controlsOf("turn").at(-1)!;
    expect(last).toMatchObject({
      cachedPrompt: "goodbye",
      heardText: REPLY_TEXTS.tool_done,
      interrupted: false,
    });
    expect(last.heardMs).toBe(last.replyMs);
    // The model was not given a tool result (it has nothing more to say): no toolResult reached it.
    const record = stack.simulator.sessions
      .list()
      .find((r) => r.turns.some((t) => t.toolUse?.toolName === "hang_up"));
    expect(record?.received).not.toContain("toolResult");
  }, 40_000);
});
