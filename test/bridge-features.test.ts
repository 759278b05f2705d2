/**
 * What a call can do besides talking: keypad digits reach the model as text, tools run on the bridge and
 * their results go back (including the agent hanging up), a pre-warmed session is adopted, and a call
 * resumed after failover starts its session with the conversation so far.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLY_TEXTS } from "../bridge/simulator/replies.ts";
import { BridgeCloseCode, buildResume } from "../shared/bridge-protocol.ts";
import { BridgePhone, newCallSid } from "./bridge-phone.ts";
import { postPrewarm } from "./bridge-requests.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";
import { loadAudioFixture } from "./fixtures/fixtures.ts";

const logs: Array<Record<string, unknown>> = [];
let stack: BridgeStack;
beforeAll(async () => {
  stack = await startBridgeStack({
    logLevel: "info",
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    simulator: {
      toolTriggers: [
        { keyword: "opening hours", toolName: "get_current_time", input: { timeZone: "Europe/Paris" } },
        { keyword: "order status", toolName: "hang_up", input: { reason: "the caller is done" } },
      ],
    },
  });
});
afterAll(async () => stack?.close());

function turnCount(phone: BridgePhone): () => boolean {
  const before = phone.controlsOf("turn").length;
  return () => phone.controlsOf("turn").length > before;
}

describe("call features", () => {
  it("passes keypad digits to the model as text", async () => {
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    const answered = turnCount(phone);
    phone.dtmf("5");
    await phone.waitFor(answered, 15_000, "the answer to the digit");
    expect(phone.controlsOf("turn")[1]).toMatchObject({
      turnIndex: 1,
      userText: "[keypad 5]",
      assistantText: REPLY_TEXTS.digits,
    });
    expect(phone.controlsOf("transcript")).toContainEqual(
      expect.objectContaining({ turnIndex: 1, role: "USER", text: "[keypad 5]" }),
    );
    const record = stack.simulator.sessions.list().find((r) => r.turns.some((t) => t.replyId === "digits"));
    expect(record?.turns.find((t) => t.replyId === "digits")?.transcript).toContain('"5"');
    await phone.hangUp();
  }, 30_000);

  it("runs tools for the model, and hangs up for the agent once the goodbye has been heard", async () => {
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");

    const hours = loadAudioFixture("opening-hours", "speech");
    const answered = turnCount(phone);
    await phone.say(hours.mulaw);
    await phone.waitFor(answered, 15_000, "the answer after the tool");
    expect(phone.controlsOf("turn")[1]).toMatchObject({
      userText: hours.text,
      assistantText: REPLY_TEXTS.tool_done,
    });
    const toolLog = logs.find((line) => line.msg === "tool used" && line.callSid === phone.callSid);
    expect(toolLog).toMatchObject({ toolName: "get_current_time", ok: true });
    const record = stack.simulator.sessions
      .list()
      .find((r) => r.turns.some((t) => t.trigger === "tool_result"));
    expect(record?.received).toContain("toolResult");

    await phone.say(loadAudioFixture("order-status", "speech").mulaw);
    expect(await phone.closed).toBe(BridgeCloseCode.CALL_ENDED);
    expect(phone.controlsOf("hangup")).toEqual([{ bridge: "hangup", reason: "agent" }]);
    const last = phone.controlsOf("turn").at(-1)!;
    expect(last).toMatchObject({ assistantText: REPLY_TEXTS.tool_done, heardText: REPLY_TEXTS.tool_done });
    expect(last.heardMs).toBe(last.replyMs);
  }, 40_000);

  it("adopts a pre-warmed session", async () => {
    const callSid = newCallSid();
    const response = await postPrewarm(stack.bridge.url, TEST_SECRET, callSid, {
      callSid,
      voiceId: "tiffany",
    });
    expect(response.status).toBe(202);
    expect(stack.bridge.server.stats().prewarmed).toBe(1);
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET, callSid });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    expect(phone.controlsOf("ready")[0]?.sessionWarm).toBe(true);
    expect(stack.bridge.server.stats().prewarmed).toBe(0);
    await phone.hangUp();
  }, 30_000);

  it("resumes a call with its history and carries on counting turns", async () => {
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    const history = [
      { role: "USER" as const, text: "I would like to check my order." },
      { role: "ASSISTANT" as const, text: "Sure, what is the order number?" },
    ];
    phone.sendRaw(
      buildResume({
        callSid: phone.callSid,
        reason: "failover",
        history,
        turnsCompleted: 4,
        callStartedAtMs: Date.now() - 60_000,
      }),
    );
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the welcome back");
    expect(phone.controlsOf("turn")[0]).toMatchObject({
      turnIndex: 4,
      assistantText: REPLY_TEXTS.greeting_again,
    });
    const record = stack.simulator.sessions.list().find((r) => r.history.length > 0);
    expect(record?.history).toEqual(history);
    await phone.hangUp();
  }, 30_000);
});
