/**
 * The media WebSocket end to end inside workerd: this test plays Twilio, the call's Durable Object relays,
 * and a real Node WebSocket server (test/edge/fake-bridge.ts) plays the bridge.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  BRIDGE_PROTOCOL_VERSION,
  BridgeCloseCode,
  buildBridgeControl,
  CONTROL_PREFIX,
  parseEdgeControl,
} from "../shared/bridge-protocol.ts";
import {
  buildClear,
  buildMark,
  buildMedia,
  buildStop,
  MAX_TWILIO_FRAME_CHARS,
} from "../shared/twilio-media.ts";
import {
  ACCOUNT_SID,
  answer,
  bridgeClose,
  bridgeLog,
  bridgeSend,
  callRecord,
  edge,
  newCallSid,
  openMedia,
  resetBridges,
  servingBridge,
  startCall,
  twilioFrames,
  waitFor,
} from "./test-support/harness.ts";

afterEach(resetBridges);

const otherBridge = (id: string) => edge.bridges.find((b) => b.id !== id)?.id ?? "";

async function bridgeFrames(
  bridgeId: string,
  callSid: string,
  connection: number,
  count: number,
): Promise<string[]> {
  return waitFor(async () => {
    const frames = (await bridgeLog(bridgeId, callSid)).connections[connection]?.frames ?? [];
    return frames.length >= count ? frames : undefined;
  }, `${count} frames at ${bridgeId}`);
}

const payloadOf = (frame: string) => (JSON.parse(frame) as { media?: { payload?: string } }).media?.payload;

describe("media relay", () => {
  it("hands connected + start to the bridge untouched, then relays media both ways", async () => {
    const { callSid, twilio, frames } = await startCall();
    const bridgeId = await servingBridge(callSid);
    const media = [0, 1, 2, 3, 4].map(frames.media);
    for (const frame of media) twilio.send(frame);

    const atBridge = await bridgeFrames(bridgeId, callSid, 0, 7);
    expect(atBridge).toEqual([frames.connected, frames.start, ...media]);
    const log = await bridgeLog(bridgeId, callSid);
    expect(log.connections[0]?.headers.protocol).toBe(String(BRIDGE_PROTOCOL_VERSION));

    const echoed = await twilio.receivedAtLeast(5);
    expect(echoed).toEqual(media.map((frame) => buildMedia(frames.streamSid, payloadOf(frame) ?? "")));

    const record = await callRecord(callSid);
    expect(record).toMatchObject({
      status: "in-progress",
      streamSid: frames.streamSid,
      streamBridgeId: bridgeId,
    });
    expect(record.streamEvents.map((e) => e.event)).toEqual(
      expect.arrayContaining(["twilio-start", "bridge-connected", "bridge-ready"]),
    );
    twilio.socket.close(1000, "caller hung up");
  });

  it("relays dtmf, mark and stop from Twilio and mark/clear from the bridge", async () => {
    const { callSid, twilio, frames } = await startCall();
    const bridgeId = await servingBridge(callSid);
    const dtmf = JSON.stringify({
      event: "dtmf",
      sequenceNumber: "3",
      streamSid: frames.streamSid,
      dtmf: { track: "inbound_track", digit: "5" },
    });
    const markEcho = JSON.stringify({
      event: "mark",
      sequenceNumber: "4",
      streamSid: frames.streamSid,
      mark: { name: "g1-0" },
    });
    const stop = buildStop({
      sequenceNumber: 5,
      streamSid: frames.streamSid,
      accountSid: ACCOUNT_SID,
      callSid,
    });
    for (const frame of [dtmf, markEcho, stop]) twilio.send(frame);
    expect((await bridgeFrames(bridgeId, callSid, 0, 5)).slice(2)).toEqual([dtmf, markEcho, stop]);

    const toTwilio = [buildMark(frames.streamSid, "g2-7"), buildClear(frames.streamSid)];
    await bridgeSend(bridgeId, callSid, toTwilio);
    expect(await twilio.receivedAtLeast(2)).toEqual(toTwilio);
    twilio.socket.close(1000, "done");
    const closed = await waitFor(
      async () => (await bridgeLog(bridgeId, callSid)).connections[0]?.closed ?? undefined,
      "the bridge socket to close",
    );
    expect(closed.code).toBe(BridgeCloseCode.NORMAL);
    const record = await waitFor(async () => {
      const r = await callRecord(callSid);
      return r.status === "completed" ? r : undefined;
    }, "the call to complete");
    expect(record.endReason).toBe("twilio-closed");
  });

  it("stores transcripts and turns, and ends the call when the bridge hangs up", async () => {
    const { callSid, twilio } = await startCall();
    const bridgeId = await servingBridge(callSid);
    const turn = {
      bridge: "turn" as const,
      turnIndex: 0,
      userText: "what are your hours",
      assistantText: "We are open nine to five, Monday to Friday.",
      heardText: "We are open nine to five,",
      heardMs: 1800,
      replyMs: 3100,
      interrupted: true,
      interruptedBy: "vad" as const,
      timings: { callerSpeechEndMs: 1000, firstModelAudioMs: 1450, firstFrameSentMs: 1460 },
    };
    await bridgeSend(bridgeId, callSid, [
      buildBridgeControl({
        bridge: "transcript",
        turnIndex: 0,
        role: "USER",
        text: "what are your hours",
        atMs: 1000,
      }),
      buildBridgeControl({
        bridge: "transcript",
        turnIndex: 0,
        role: "ASSISTANT",
        text: turn.assistantText,
        atMs: 1500,
      }),
      buildBridgeControl(turn),
      buildBridgeControl({ bridge: "error", code: "model_throttled", message: "slow down" }),
      buildBridgeControl({ bridge: "hangup", reason: "agent" }),
    ]);
    expect(await twilio.closed).toMatchObject({ code: 1000 });
    const record = await waitFor(async () => {
      const r = await callRecord(callSid);
      return r.status === "completed" ? r : undefined;
    }, "the call to complete");
    expect(record.endReason).toBe("call-ended");
    expect(record.transcript.map((t) => [t.role, t.text])).toEqual([
      ["USER", "what are your hours"],
      ["ASSISTANT", turn.assistantText],
    ]);
    const { bridge: _kind, ...stored } = turn;
    expect(record.turns).toEqual([{ ...stored, atMs: expect.any(Number) }]);
    expect(record.streamEvents.map((e) => [e.event, e.detail])).toEqual(
      expect.arrayContaining([
        ["bridge-error", "model_throttled: slow down"],
        ["bridge-hangup", "agent"],
        ["call-ended", "agent"],
      ]),
    );
  });

  it("ends Twilio's stream when the bridge closes with CALL_ENDED", async () => {
    const { callSid, twilio } = await startCall();
    const bridgeId = await servingBridge(callSid);
    await bridgeClose(bridgeId, callSid, { code: BridgeCloseCode.CALL_ENDED, reason: "transfer done" });
    expect(await twilio.closed).toMatchObject({ code: 1000 });
    expect((await bridgeLog(otherBridge(bridgeId), callSid)).connections).toEqual([]);
  });

  it("drops and counts bad frames from Twilio, and carries on", async () => {
    const { callSid, twilio, frames } = await startCall();
    const bridgeId = await servingBridge(callSid);
    const truncated = frames.media(0).slice(0, -5);
    const oversized = `{"event":"media","x":"${"a".repeat(MAX_TWILIO_FRAME_CHARS)}"}`;
    const badPayload = frames.media(1).replace(/"payload":"[^"]*"/, '"payload":"not base64!"');
    for (const bad of ["not json", truncated, '{"event":"bogus"}', oversized, badPayload]) twilio.send(bad);
    twilio.socket.send(new Uint8Array([1, 2, 3]));
    twilio.send(frames.connected);
    const good = frames.media(2);
    twilio.send(good);
    // The bad payload takes the fast path (shape only) and reaches the bridge; the rest never do.
    expect(await bridgeFrames(bridgeId, callSid, 0, 4)).toEqual([
      frames.connected,
      frames.start,
      badPayload,
      good,
    ]);
    const record = await waitFor(async () => {
      const r = await callRecord(callSid);
      return Object.keys(r.badFrames).length >= 5 ? r : undefined;
    }, "bad frames in the record");
    expect(record.badFrames).toEqual({
      "twilio.bad_json": 2,
      "twilio.bad_frame": 1,
      "twilio.frame_too_large": 1,
      "twilio.binary_frame": 1,
      "twilio.out_of_order": 1,
    });
    twilio.socket.close(1000, "done");
  });

  it("drops and counts bad frames from the bridge; Twilio only gets well-formed ones", async () => {
    const { callSid, twilio, frames } = await startCall();
    const bridgeId = await servingBridge(callSid);
    const good = buildMedia(frames.streamSid, "AAAA");
    await bridgeSend(bridgeId, callSid, [
      "not json",
      '{"event":"media","streamSid":"MZ',
      '{"event":"explode","streamSid":"x"}',
      `${CONTROL_PREFIX}"nonsense"}`,
      `{"event":"media","streamSid":"${frames.streamSid}","media":{"payload":"${"A".repeat(MAX_TWILIO_FRAME_CHARS)}"}}`,
      good,
    ]);
    expect(await twilio.receivedAtLeast(1)).toEqual([good]);
    const record = await waitFor(async () => {
      const r = await callRecord(callSid);
      return Object.values(r.badFrames).reduce((a, b) => a + b, 0) >= 5 ? r : undefined;
    }, "bad bridge frames in the record");
    expect(record.badFrames).toEqual({
      "bridge.bad_json": 2,
      "bridge.bad_frame": 2,
      "bridge.frame_too_large": 1,
    });
    twilio.socket.close(1000, "done");
  });

  it("closes the stream with UNAUTHORIZED on a bad or foreign stream token; nothing reaches the bridge", async () => {
    const otherCall = newCallSid();
    const foreignToken = (await answer(otherCall)).token;
    for (const token of ["v1.stream.garbage", foreignToken]) {
      const callSid = newCallSid();
      await answer(callSid);
      const twilio = await openMedia(callSid);
      const frames = twilioFrames(callSid, token);
      twilio.send(frames.connected);
      twilio.send(frames.start);
      twilio.send(frames.media(0));
      expect(await twilio.closed).toEqual({
        code: BridgeCloseCode.UNAUTHORIZED,
        reason: "stream token rejected",
      });
      const record = await waitFor(async () => {
        const r = await callRecord(callSid);
        return r.status === "failed" ? r : undefined;
      }, "the call to fail");
      expect(record.endReason).toBe("bad_token");
      expect(record.badFrames["twilio.bad_token"]).toBe(1);
      for (const { id } of edge.bridges) {
        for (const connection of (await bridgeLog(id, callSid)).connections)
          expect(connection.frames).toEqual([]);
      }
    }
  });

  it("fails over when the bridge drops: another bridge gets resume, connected, start, then the media", async () => {
    const { callSid, twilio, frames } = await startCall();
    const first = await servingBridge(callSid);
    twilio.send(frames.media(0));
    await twilio.receivedAtLeast(1);
    await bridgeSend(first, callSid, [
      buildBridgeControl({ bridge: "transcript", turnIndex: 0, role: "USER", text: "hello there", atMs: 1 }),
    ]);
    await waitFor(
      async () => ((await callRecord(callSid)).transcript.length > 0 ? true : undefined),
      "the transcript",
    );

    await bridgeClose(first, callSid, { terminate: true });
    const second = otherBridge(first);
    const handed = await bridgeFrames(second, callSid, 0, 3);
    const resume = parseEdgeControl(handed[0] ?? "");
    expect(resume).toMatchObject({
      bridge: "resume",
      callSid,
      reason: "failover",
      history: [{ role: "USER", text: "hello there" }],
      turnsCompleted: 0,
    });
    expect(handed.slice(1, 3)).toEqual([frames.connected, frames.start]);

    for (const index of [1, 2, 3]) twilio.send(frames.media(index));
    const atSecond = await bridgeFrames(second, callSid, 0, 6);
    expect(atSecond.slice(3)).toEqual([1, 2, 3].map(frames.media));
    const echoed = await twilio.receivedAtLeast(4);
    expect(echoed.slice(1).map(payloadOf)).toEqual([1, 2, 3].map((i) => payloadOf(frames.media(i))));

    const record = await callRecord(callSid);
    expect(record.streamBridgeId).toBe(second);
    expect(record.streamEvents.map((e) => e.event)).toEqual(
      expect.arrayContaining(["bridge-lost", "failover"]),
    );
    twilio.socket.close(1000, "done");
  });

  it("hands the call over when its bridge closes with DRAINING", async () => {
    const { callSid, twilio, frames } = await startCall();
    const first = await servingBridge(callSid);
    await bridgeClose(first, callSid, { code: BridgeCloseCode.DRAINING, reason: "deploy" });
    const second = otherBridge(first);
    const handed = await bridgeFrames(second, callSid, 0, 3);
    expect(parseEdgeControl(handed[0] ?? "")).toMatchObject({ bridge: "resume", reason: "handover" });
    twilio.send(frames.media(0));
    await twilio.receivedAtLeast(1);
    twilio.socket.close(1000, "done");
  });

  it("gives the call up (CALL_FAILED) when no bridge is left to fail over to", async () => {
    const { callSid, twilio } = await startCall();
    const first = await servingBridge(callSid);
    const second = otherBridge(first);
    await fetch(`${edge.bridges.find((b) => b.id === second)?.url}/control/health`, {
      method: "POST",
      body: JSON.stringify({ status: "draining" }),
    });
    await bridgeClose(first, callSid, { terminate: true });
    expect(await twilio.closed).toEqual({ code: BridgeCloseCode.CALL_FAILED, reason: "no bridge available" });
    const record = await waitFor(async () => {
      const r = await callRecord(callSid);
      return r.status === "failed" ? r : undefined;
    }, "the call to fail");
    expect(record.endReason).toBe("bridge_unavailable");
  });

  it("keeps the bridge link open past the connection timeout (BRIDGE_TIMEOUT_MS)", async () => {
    const { callSid, twilio, frames } = await startCall();
    const bridgeId = await servingBridge(callSid);
    await new Promise((resolve) => setTimeout(resolve, Number(edge.bindings.BRIDGE_TIMEOUT_MS) + 300));
    twilio.send(frames.media(0));
    await twilio.receivedAtLeast(1);
    const log = await bridgeLog(bridgeId, callSid);
    expect(log.connections.map((c) => c.closed)).toEqual([null]);
    twilio.socket.close(1000, "done");
  });

  it("refuses a second stream for the same call", async () => {
    const { callSid, twilio } = await startCall();
    await servingBridge(callSid);
    await expect(openMedia(callSid)).rejects.toThrow("upgrade refused: 409");
    twilio.socket.close(1000, "done");
  });
});
