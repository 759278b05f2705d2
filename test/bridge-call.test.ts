/**
 * Whole calls through the bridge: a Twilio-speaking WebSocket client with real speech fixtures, the
 * bridge, and the Nova Sonic simulator behind the real AWS SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLY_TEXTS } from "../bridge/simulator/replies.ts";
import { BridgePhone } from "./bridge-phone.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";
import { loadAudioFixture } from "./fixtures/fixtures.ts";

let stack: BridgeStack;
beforeAll(async () => {
  stack = await startBridgeStack();
});
afterAll(async () => {
  await stack?.close();
});

function phone(): Promise<BridgePhone> {
  return BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
}

describe("a call through the bridge", () => {
  it("greets, answers two turns of real speech, and closes the session in order on hang-up", async () => {
    const caller = await phone();
    caller.start();
    await caller.waitFor(() => caller.controlsOf("turn").length >= 1, 15_000, "the greeting turn");
    const [ready] = caller.controlsOf("ready");
    expect(ready).toMatchObject({ bridgeId: "bridge-test", sessionWarm: false });
    const greeting = caller.controlsOf("turn")[0]!;
    expect(greeting).toMatchObject({
      turnIndex: 0,
      userText: "",
      assistantText: REPLY_TEXTS.greeting,
      heardText: REPLY_TEXTS.greeting,
      interrupted: false,
    });
    expect(greeting.heardMs).toBeGreaterThan(2000);

    const hours = loadAudioFixture("opening-hours", "speech");
    await caller.say(hours.mulaw);
    await caller.waitFor(() => caller.controlsOf("turn").length >= 2, 15_000, "the first answer");
    const first = caller.controlsOf("turn")[1]!;
    expect(first.turnIndex).toBe(1);
    expect(first.userText).toBe(hours.text);
    expect(first.assistantText).toBe(REPLY_TEXTS.ack);
    expect(first.heardText).toBe(REPLY_TEXTS.ack);
    const t = first.timings;
    expect(t.callerSpeechEndMs).toBeDefined();
    expect(t.lastAudioInputSentMs).toBeGreaterThanOrEqual(t.callerSpeechEndMs!);
    expect(t.firstModelAudioMs).toBeGreaterThan(t.lastAudioInputSentMs!);
    expect(t.firstFrameSentMs).toBeGreaterThanOrEqual(t.firstModelAudioMs!);

    const status = loadAudioFixture("order-status", "speech");
    await caller.say(status.mulaw);
    await caller.waitFor(() => caller.controlsOf("turn").length >= 3, 15_000, "the second answer");
    expect(caller.controlsOf("turn")[2]).toMatchObject({ turnIndex: 2, userText: status.text });

    const transcripts = caller.controlsOf("transcript").map((c) => [c.turnIndex, c.role, c.text]);
    expect(transcripts).toContainEqual([1, "USER", hours.text]);
    expect(transcripts).toContainEqual([1, "ASSISTANT", REPLY_TEXTS.ack]);

    const hungUpAt = Date.now();
    expect(await caller.hangUp()).toBe(1000);
    await caller.waitFor(
      () => stack.simulator.sessions.list().at(-1)?.endReason !== undefined,
      2000,
      "session end",
    );
    const record = stack.simulator.sessions.list().at(-1)!;
    expect(record.endReason).toBe("session_end");
    expect(record.endedAtMs! - hungUpAt).toBeLessThan(1000);
    expect(record.received.slice(-3)).toEqual(["contentEnd", "promptEnd", "sessionEnd"]);
    expect(caller.invalidFrames).toEqual([]);
  }, 60_000);

  it("packs the caller's audio two frames to an audioInput while nobody waits on it, and sends speech at once", async () => {
    const caller = await phone();
    caller.start();
    await caller.waitFor(() => caller.controlsOf("turn").length >= 1, 15_000, "the greeting turn");
    const session = () => stack.simulator.sessions.list().at(-1)!;
    // The caller has said nothing yet: every audioInput holds 40 ms (640 bytes of 8 kHz PCM).
    const idle = { events: session().audioInputFrames, bytes: session().audioInputBytes };
    expect(idle.events).toBeGreaterThan(10);
    expect(idle.bytes).toBe(idle.events * 640);

    const hours = loadAudioFixture("opening-hours", "speech");
    await caller.say(hours.mulaw);
    const heard = () => caller.controlsOf("transcript").find((t) => t.turnIndex === 1 && t.role === "USER");
    await caller.waitFor(() => heard() !== undefined, 15_000, "the model's transcript of the caller");
    expect(heard()?.text).toBe(hours.text);
    // From the speech's onset until the model's transcript, each 20 ms frame went on its own.
    const events = session().audioInputFrames - idle.events;
    const bytes = session().audioInputBytes - idle.bytes;
    expect(bytes / events).toBeLessThan(400);
    // The answer plays to a silent caller: packed again.
    await caller.waitFor(() => caller.controlsOf("turn").length >= 2, 15_000, "the answer");
    const during = { events: session().audioInputFrames, bytes: session().audioInputBytes };
    await caller.waitFor(() => session().audioInputFrames >= during.events + 10, 5000, "more audio");
    expect(session().audioInputBytes - during.bytes).toBe((session().audioInputFrames - during.events) * 640);
    await caller.hangUp();
  }, 60_000);
});
