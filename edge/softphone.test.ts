/**
 * The browser softphone's way in, inside workerd: an admin-created call, admitted like /voice, and a
 * media WebSocket authorised by that call's stream token offered as a subprotocol.
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { buildConnected, buildInboundMedia, buildMedia, buildStart } from "../shared/twilio-media.ts";
import {
  isSoftphoneCallSid,
  newSoftphoneCallSid,
  SOFTPHONE_ACCOUNT_SID,
  SOFTPHONE_SUBPROTOCOL,
  type SoftphoneCall,
  streamTokenFromSubprotocols,
} from "./softphone.ts";
import {
  ADMIN_TOKEN,
  adminGet,
  answer,
  bridgeLog,
  callRecord,
  newCallSid,
  newStreamSid,
  resetBridges,
  servingBridge,
  waitFor,
} from "./test-support/harness.ts";

afterEach(resetBridges);

async function createCall(token: string | null = ADMIN_TOKEN): Promise<Response> {
  return SELF.fetch("http://worker.internal/phone/calls", {
    method: "POST",
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
  });
}

async function openStream(path: string, protocols: string | null): Promise<Response> {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (protocols !== null) headers["Sec-WebSocket-Protocol"] = protocols;
  return SELF.fetch(`http://worker.internal${path}`, { headers });
}

async function rejections(): Promise<number> {
  const body = await (await adminGet("/calls")).json<{ rejected: Record<string, number> }>();
  return body.rejected.bad_stream_token ?? 0;
}

describe("softphone call SIDs and subprotocols", () => {
  it("makes Twilio-shaped CallSids with a recognisable prefix", () => {
    const sids = new Set(Array.from({ length: 20 }, newSoftphoneCallSid));
    expect(sids.size).toBe(20);
    for (const sid of sids) {
      expect(sid).toMatch(/^CAbe11[0-9a-f]{28}$/);
      expect(isSoftphoneCallSid(sid)).toBe(true);
    }
    expect(isSoftphoneCallSid(newCallSid().replace(/^CA..../, "CA0000"))).toBe(false);
    expect(isSoftphoneCallSid("CAbe11")).toBe(false);
  });

  it("takes the token from 'protocol, token' and nothing else", () => {
    expect(streamTokenFromSubprotocols(`${SOFTPHONE_SUBPROTOCOL}, v1.stream.x.1.s`)).toBe("v1.stream.x.1.s");
    expect(streamTokenFromSubprotocols(`v1.stream.x.1.s,${SOFTPHONE_SUBPROTOCOL}`)).toBe("v1.stream.x.1.s");
    expect(streamTokenFromSubprotocols(null)).toBeNull();
    expect(streamTokenFromSubprotocols(SOFTPHONE_SUBPROTOCOL)).toBeNull();
    expect(streamTokenFromSubprotocols("v1.stream.x.1.s")).toBeNull();
    expect(streamTokenFromSubprotocols(`${SOFTPHONE_SUBPROTOCOL}, a, b`)).toBeNull();
    expect(streamTokenFromSubprotocols(`chat, v1.stream.x.1.s`)).toBeNull();
  });
});

describe("POST /phone/calls", () => {
  it("needs the admin token", async () => {
    expect((await createCall(null)).status).toBe(401);
    expect((await createCall("not-the-admin-token")).status).toBe(401);
  });

  it("admits a call like /voice: recorded as ringing with its bridge, bridge pre-warmed", async () => {
    const response = await createCall();
    expect(response.status).toBe(201);
    const call = await response.json<SoftphoneCall>();
    expect(call).toMatchObject({
      accountSid: SOFTPHONE_ACCOUNT_SID,
      streamPath: `/phone/media/${call.callSid}`,
      subprotocol: SOFTPHONE_SUBPROTOCOL,
    });
    expect(isSoftphoneCallSid(call.callSid)).toBe(true);
    expect(call.streamTokenExpiresAtMs).toBeGreaterThan(Date.now());
    const record = await callRecord(call.callSid);
    expect(record).toMatchObject({ status: "ringing", from: "browser", to: "agent" });
    const bridgeId = record.bridge?.id ?? "";
    const prewarms = await waitFor(async () => {
      const log = await bridgeLog(bridgeId, call.callSid);
      return log.prewarms.length > 0 ? log.prewarms : undefined;
    }, "the pre-warm hint");
    expect(prewarms).toEqual([{ callSid: call.callSid }]);
  });
});

describe("GET /phone/media/{callSid}", () => {
  it("opens with the call's stream token as a subprotocol and relays the Media Stream", async () => {
    const call = await (await createCall()).json<SoftphoneCall>();
    const response = await openStream(call.streamPath, `${call.subprotocol}, ${call.streamToken}`);
    expect(response.status).toBe(101);
    expect(response.headers.get("Sec-WebSocket-Protocol")).toBe(SOFTPHONE_SUBPROTOCOL);
    const socket = response.webSocket;
    if (!socket) throw new Error("no WebSocket");
    socket.accept();
    const received: string[] = [];
    socket.addEventListener("message", (event) => received.push(String(event.data)));
    const streamSid = newStreamSid();
    socket.send(buildConnected());
    socket.send(
      buildStart({
        sequenceNumber: 1,
        streamSid,
        accountSid: call.accountSid,
        callSid: call.callSid,
        customParameters: { token: call.streamToken },
      }),
    );
    const payloadBase64 = btoa("softphone-frame-1");
    socket.send(buildInboundMedia({ sequenceNumber: 2, streamSid, chunk: 1, timestampMs: 0, payloadBase64 }));
    // The fake bridge echoes media back: the browser hears it as Twilio would.
    await waitFor(() => (received.length > 0 ? received : undefined), "the echo");
    expect(received[0]).toBe(buildMedia(streamSid, payloadBase64));
    const bridgeId = await servingBridge(call.callSid);
    expect(bridgeId).toBe((await callRecord(call.callSid)).bridge?.id);
    expect((await callRecord(call.callSid)).status).toBe("in-progress");

    // One stream per call: the same token cannot open a second one.
    const again = await openStream(call.streamPath, `${call.subprotocol}, ${call.streamToken}`);
    expect(again.status).toBe(409);
    socket.close(1000, "hang up");
    await waitFor(
      async () => ((await callRecord(call.callSid)).status === "completed" ? true : undefined),
      "the end",
    );
  });

  it("refuses, and counts, upgrades without this call's token", async () => {
    const call = await (await createCall()).json<SoftphoneCall>();
    const other = await (await createCall()).json<SoftphoneCall>();
    const before = await rejections();
    const refused = [
      await openStream(call.streamPath, null),
      await openStream(call.streamPath, call.subprotocol),
      await openStream(call.streamPath, `${call.subprotocol}, ${other.streamToken}`),
      await openStream(call.streamPath, `${call.subprotocol}, ${call.streamToken.slice(0, -2)}xx`),
      // The admin token is not a stream token.
      await openStream(call.streamPath, `${call.subprotocol}, ${ADMIN_TOKEN}`),
    ];
    expect(refused.map((response) => response.status)).toEqual([403, 403, 403, 403, 403]);
    expect(await rejections()).toBe(before + refused.length);
    expect((await callRecord(call.callSid)).status).toBe("ringing");
  });

  it("is not a way into Twilio's calls, even with their stream token", async () => {
    const callSid = newCallSid();
    const { token } = await answer(callSid);
    const response = await openStream(`/phone/media/${callSid}`, `${SOFTPHONE_SUBPROTOCOL}, ${token}`);
    expect(response.status).toBe(403);
  });

  it("expects a WebSocket upgrade", async () => {
    const call = await (await createCall()).json<SoftphoneCall>();
    const response = await SELF.fetch(`http://worker.internal${call.streamPath}`);
    expect(response.status).toBe(426);
  });
});
