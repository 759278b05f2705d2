/**
 * A call longer than the model's session limit, with the limit compressed to seconds (the simulator's
 * sessionLimitMs, the bridge's SESSION_LIMIT_MS): the bridge moves the call to a fresh session before each
 * limit, turns and long silences alike, and the conversation goes on. Checked on the simulator's side:
 * every session was ended by the bridge (none ran into the limit), each new one received the conversation
 * so far as history, and every caller frame reached exactly one session (plus speech replayed on purpose).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLY_TEXTS } from "../bridge/simulator/replies.ts";
import { BridgePhone, newCallSid } from "./bridge-phone.ts";
import { postPrewarm } from "./bridge-requests.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";
import { loadAudioFixture } from "./fixtures/fixtures.ts";

const LIMIT_MS = 4000;
/** 16-bit PCM at the model's 8 kHz input rate, per 20 ms Twilio frame. */
const PCM_BYTES_PER_FRAME = 320;

const logs: Array<Record<string, unknown>> = [];
let stack: BridgeStack;
beforeAll(async () => {
  stack = await startBridgeStack({
    logLevel: "info",
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    simulator: { sessionLimitMs: LIMIT_MS },
    env: {
      SESSION_LIMIT_MS: String(LIMIT_MS),
      SESSION_ROLLOVER_AFTER_MS: "2500",
      SESSION_FORCE_SWITCH_MARGIN_MS: "1000",
    },
  });
});
afterAll(async () => stack?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a call longer than the session limit", () => {
  it("moves to fresh sessions with the conversation as history, losing no caller audio", async () => {
    let framesSent = 0;
    const phone = await BridgePhone.connect({
      baseUrl: stack.bridge.url,
      secret: TEST_SECRET,
      onSend: () => {
        framesSent++;
      },
    });
    phone.start();
    const turns = () => phone.controlsOf("turn");
    await phone.waitFor(() => turns().length >= 1, 15_000, "the greeting");

    const hours = loadAudioFixture("opening-hours", "speech");
    await phone.say(hours.mulaw);
    await phone.waitFor(() => turns().length >= 2, 15_000, "the first answer");
    // A silent line for longer than a whole session: the switch must come from a timer.
    await sleep(LIMIT_MS + 1000);
    const status = loadAudioFixture("order-status", "speech");
    await phone.say(status.mulaw);
    await phone.waitFor(() => turns().length >= 3, 15_000, "the second answer");
    const yes = loadAudioFixture("yes-please", "speech");
    await phone.say(yes.mulaw);
    await phone.waitFor(() => turns().length >= 4, 15_000, "the third answer");
    expect(await phone.hangUp()).toBe(1000);
    await phone.waitFor(
      () => stack.simulator.sessions.list().every((record) => record.endReason !== undefined),
      3000,
      "every session to end",
    );

    // The conversation went on: each utterance was heard and answered, in one numbering.
    expect(turns().map((turn) => turn.turnIndex)).toEqual([0, 1, 2, 3]);
    expect(turns().map((turn) => turn.userText)).toEqual(["", hours.text, status.text, yes.text]);
    const replies: string[] = Object.values(REPLY_TEXTS);
    for (const turn of turns()) {
      expect(replies).toContain(turn.assistantText);
      expect(turn.heardText).toBe(turn.assistantText);
    }
    expect(phone.controlsOf("error")).toEqual([]);
    expect(phone.controlsOf("hangup")).toEqual([]);

    // Several sessions, each ended by the bridge in protocol order: none ran into the limit.
    const sessions = stack.simulator.sessions.list();
    expect(sessions.length).toBeGreaterThanOrEqual(4);
    for (const record of sessions) {
      expect(record.endReason).toBe("session_end");
      expect(record.endedAtMs! - record.openedAtMs).toBeLessThan(LIMIT_MS);
    }

    // Every session after the first got the conversation so far, opening with the caller's side.
    for (const record of sessions.slice(1)) {
      expect(record.history[0]?.role).toBe("USER");
      expect(record.history.map((entry) => entry.text)).toContain(REPLY_TEXTS.greeting);
    }
    const last = sessions.at(-1)!;
    expect(last.history.map((entry) => entry.text)).toEqual(
      expect.arrayContaining([hours.text, status.text]),
    );

    // No caller audio lost: every frame sent reached a session; only replayed speech came twice.
    const stats = stack.bridge.sessionStats.snapshot();
    const received = sessions.reduce((sum, record) => sum + record.audioInputBytes, 0);
    expect(received).toBe(framesSent * PCM_BYTES_PER_FRAME + stats.replayedAudioBytes);
    const switches = stats.switches.quiet + stats.switches.forced + stats.switches.deadline;
    expect(switches).toBe(sessions.length - 1);
    expect(stats.failures).toEqual({});
    expect(logs.filter((line) => line.msg === "model session switched").length).toBe(switches);
  }, 90_000);

  it("keeps the voice a pre-warm chose in every later session", async () => {
    const before = stack.simulator.sessions.list().length;
    const callSid = newCallSid();
    const response = await postPrewarm(stack.bridge.url, TEST_SECRET, callSid, {
      callSid,
      voiceId: "tiffany",
    });
    expect(response.status).toBe(202);
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET, callSid });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length >= 1, 15_000, "the greeting");
    await phone.waitFor(
      () => stack.simulator.sessions.list().length >= before + 3,
      3 * LIMIT_MS,
      "two switches",
    );
    expect(await phone.hangUp()).toBe(1000);
    const voices = stack.simulator.sessions
      .list()
      .slice(before)
      .map((record) => record.voiceId);
    expect(voices.length).toBeGreaterThanOrEqual(3);
    expect(new Set(voices)).toEqual(new Set(["tiffany"]));
  }, 30_000);

  it("replays speech in progress at a forced switch, so the new session hears the whole utterance", async () => {
    // 4.3 s of speech: longer than the 3 s a session may reach before the switch no longer waits.
    const long = loadAudioFixture("delivery-address", "speech");
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length >= 1, 15_000, "the greeting");
    const switchesBefore = logs.filter((line) => line.callSid === phone.callSid).length;
    await phone.say(long.mulaw);
    await phone.waitFor(() => phone.controlsOf("turn").length >= 2, 15_000, "the answer");
    expect(phone.controlsOf("turn")[1]?.userText).toBe(long.text);
    const replays = logs
      .slice(switchesBefore)
      .filter(
        (line) =>
          line.callSid === phone.callSid &&
          line.msg === "model session switched" &&
          line.reason === "forced" &&
          Number(line.replayedBytes) > 0,
      );
    expect(replays.length).toBeGreaterThanOrEqual(1);
    expect(await phone.hangUp()).toBe(1000);
  }, 30_000);
});

describe("a long call on pooled streams", () => {
  let pooled: BridgeStack;
  beforeAll(async () => {
    pooled = await startBridgeStack({
      simulator: { sessionLimitMs: LIMIT_MS },
      env: {
        SESSION_LIMIT_MS: String(LIMIT_MS),
        SESSION_ROLLOVER_AFTER_MS: "2500",
        SESSION_FORCE_SWITCH_MARGIN_MS: "1000",
        POOL_MAX: "2",
        POOL_MIN: "2",
        POOL_MAX_AGE_MS: "2000",
      },
    });
  });
  afterAll(async () => pooled?.close());

  it("counts a session's age from when its stream was opened, not from when the call took it", async () => {
    const phone = await BridgePhone.connect({ baseUrl: pooled.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length >= 1, 15_000, "the greeting");
    await sleep(2 * LIMIT_MS);
    expect(await phone.hangUp()).toBe(1000);
    const switched = pooled.bridge.sessionStats.snapshot().switches;
    expect(switched.quiet + switched.forced + switched.deadline).toBeGreaterThanOrEqual(2);
    // No stream, pooled or not, ran into the limit: the call switched away from each in time.
    const ends = pooled.simulator.sessions.list().map((record) => record.endReason ?? "live");
    expect(ends).not.toContain("modelTimeoutException");
    expect(phone.controlsOf("error")).toEqual([]);
  }, 30_000);
});
