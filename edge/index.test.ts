import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { verifyToken } from "../shared/signed-token.ts";
import type { DirectoryEntry } from "./call-directory.ts";
import {
  ADMIN_TOKEN,
  AUTH_TOKEN,
  adminGet,
  answer,
  bridgeLog,
  callRecord,
  edge,
  newCallSid,
  PUBLIC_BASE_URL,
  resetBridges,
  setBridgeHealth,
  signedPost,
  voiceParams,
  waitFor,
} from "./test-support/harness.ts";
import { STREAM_TOKEN_PLACEHOLDER } from "./test-support/provided.ts";
import { twilioSignature } from "./twilio-signature.ts";
import { APOLOGY_TEXT } from "./twiml.ts";

afterEach(resetBridges);

describe("GET /healthz", () => {
  it("answers", async () => {
    const res = await SELF.fetch("http://worker.internal/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, region: "test", bridges: 3 });
  });
});

describe("POST /voice", () => {
  it("accepts a request signed by the twilio package over the public URL and connects the stream", async () => {
    const { params, signature } = edge.voiceRequest;
    const callSid = params.find(([name]) => name === "CallSid")?.[1] ?? "";
    const response = await signedPost("/voice", params, { signature, workerOrigin: "http://10.0.0.7:8787" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/xml");
    const twiml = await response.text();
    const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(twiml)?.[1] ?? "";
    await verifyToken(edge.bindings.BRIDGE_SECRET ?? "", token, {
      purpose: "stream",
      subject: callSid,
      nowMs: Date.now(),
    });
    expect(twiml).toBe(edge.voiceRequest.twiml.replace(STREAM_TOKEN_PLACEHOLDER, token));
    expect(twiml).toContain(
      `<Stream url="wss://edge.test/media/${callSid}" statusCallback="https://edge.test/stream-status">`,
    );

    const record = await callRecord(callSid);
    expect(record).toMatchObject({ callSid, status: "ringing", from: "+14155550100", to: "+18005550199" });
    expect(record.statusHistory).toMatchObject([{ status: "ringing", source: "voice" }]);
    const bridgeId = record.bridge?.id ?? "";
    expect(edge.bridges.map((b) => b.id)).toContain(bridgeId);
    const prewarms = await waitFor(async () => {
      const log = await bridgeLog(bridgeId, callSid);
      return log.prewarms.length > 0 ? log.prewarms : undefined;
    }, "the pre-warm hint");
    expect(prewarms).toEqual([{ callSid }]);
  });

  it("refuses bad, missing and misplaced signatures with 403 and counts them", async () => {
    const params = voiceParams(newCallSid());
    const before =
      (await (await adminGet("/calls")).json<{ rejected: Record<string, number> }>()).rejected
        .bad_signature ?? 0;
    const good = await twilioSignature(
      AUTH_TOKEN,
      `${PUBLIC_BASE_URL}/voice`,
      new Map(params.map(([n, v]) => [n, [v]])),
    );
    const overWorkerUrl = await twilioSignature(
      AUTH_TOKEN,
      "http://worker.internal/voice",
      new Map(params.map(([n, v]) => [n, [v]])),
    );
    const tampered = params.map(([n, v]): [string, string] => (n === "From" ? [n, "+15550000000"] : [n, v]));
    for (const [sent, signature] of [
      [params, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="],
      [params, null],
      [params, overWorkerUrl],
      [tampered, good],
    ] as const) {
      const response = await signedPost("/voice", [...sent], { signature });
      expect(response.status).toBe(403);
      expect(await response.text()).toBe("invalid signature");
    }
    const after = await waitFor(async () => {
      const { rejected } = await (await adminGet("/calls")).json<{ rejected: Record<string, number> }>();
      return (rejected.bad_signature ?? 0) >= before + 4 ? rejected.bad_signature : undefined;
    }, "the rejection count");
    expect(after).toBeGreaterThanOrEqual(before + 4);
  });

  it("apologises and hangs up when no bridge is healthy, and records the call", async () => {
    for (const { id } of edge.bridges) await setBridgeHealth(id, { status: "draining" });
    const callSid = newCallSid();
    const response = await signedPost("/voice", voiceParams(callSid));
    expect(response.status).toBe(200);
    const twiml = await response.text();
    expect(twiml).toContain(`<Say>${APOLOGY_TEXT}</Say><Hangup/>`);
    expect(twiml).not.toContain("<Connect>");
    const record = await callRecord(callSid);
    expect(record.bridge).toBeNull();
    expect(record.streamEvents.map((e) => e.event)).toContain("bridge-unavailable");
  });

  it("apologises (never a 500) for a signed request that is not a call", async () => {
    const response = await signedPost("/voice", [["CallSid", "not-a-call-sid"]]);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<Hangup/>");
  });
});

describe("POST /status and /stream-status", () => {
  it("moves the call through its statuses; completed is final", async () => {
    const callSid = newCallSid();
    await answer(callSid);
    const post = (status: string) =>
      signedPost("/status", [
        ["CallSid", callSid],
        ["CallStatus", status],
        ["CallDuration", "7"],
      ]);
    expect((await post("in-progress")).status).toBe(204);
    expect((await callRecord(callSid)).status).toBe("in-progress");
    expect((await post("completed")).status).toBe(204);
    expect((await post("in-progress")).status).toBe(204);
    const record = await callRecord(callSid);
    expect(record.status).toBe("completed");
    expect(record.endReason).toBe("completed");
    expect(record.endedAtMs).toBeTypeOf("number");
    expect(record.statusHistory.map((h) => [h.status, h.reported, h.source])).toEqual([
      ["ringing", "ringing", "voice"],
      ["in-progress", "in-progress", "status-callback"],
      ["completed", "completed", "status-callback"],
      ["completed", "in-progress", "status-callback"],
    ]);
    const listed = await waitFor(async () => {
      const { calls } = await (await adminGet("/calls?limit=500")).json<{ calls: DirectoryEntry[] }>();
      const entry = calls.find((c) => c.callSid === callSid);
      return entry?.status === "completed" ? entry : undefined;
    }, "the directory to show the call completed");
    expect(listed.status).toBe("completed");
  });

  it("finalises busy / no-answer / canceled as failed", async () => {
    for (const reported of ["busy", "no-answer", "canceled"]) {
      const callSid = newCallSid();
      await answer(callSid);
      await signedPost("/status", [
        ["CallSid", callSid],
        ["CallStatus", reported],
      ]);
      expect(await callRecord(callSid)).toMatchObject({ status: "failed", endReason: reported });
    }
  });

  it("records stream events", async () => {
    const callSid = newCallSid();
    await answer(callSid);
    const streamSid = `MZ${"f".repeat(32)}`;
    for (const event of ["stream-started", "stream-error", "stream-stopped"]) {
      const params: [string, string][] = [
        ["CallSid", callSid],
        ["StreamSid", streamSid],
        ["StreamEvent", event],
      ];
      if (event === "stream-error") params.push(["StreamError", "31920 handshake failed"]);
      expect((await signedPost("/stream-status", params)).status).toBe(204);
    }
    const events = (await callRecord(callSid)).streamEvents.filter((e) => e.event.startsWith("stream-"));
    expect(events.map((e) => [e.event, e.detail])).toEqual([
      ["stream-started", streamSid],
      ["stream-error", `${streamSid} 31920 handshake failed`],
      ["stream-stopped", streamSid],
    ]);
  });

  it("refuses unsigned callbacks, malformed ones and unknown calls", async () => {
    const unknown = newCallSid();
    expect(
      (
        await signedPost(
          "/status",
          [
            ["CallSid", unknown],
            ["CallStatus", "completed"],
          ],
          { signature: null },
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await signedPost(
          "/stream-status",
          [
            ["CallSid", unknown],
            ["StreamEvent", "stream-started"],
          ],
          { signature: "x" },
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await signedPost("/status", [
          ["CallSid", unknown],
          ["CallStatus", "exploded"],
        ])
      ).status,
    ).toBe(400);
    expect(
      (
        await signedPost("/stream-status", [
          ["CallSid", unknown],
          ["StreamEvent", "stream-paused"],
        ])
      ).status,
    ).toBe(400);
    expect(
      (
        await signedPost("/status", [
          ["CallSid", unknown],
          ["CallStatus", "completed"],
        ])
      ).status,
    ).toBe(404);
    expect(
      (
        await signedPost("/stream-status", [
          ["CallSid", unknown],
          ["StreamEvent", "stream-started"],
        ])
      ).status,
    ).toBe(404);
  });
});

describe("admin routes", () => {
  it("need the admin bearer token", async () => {
    for (const path of ["/calls", `/calls/${newCallSid()}`]) {
      expect((await adminGet(path, null)).status).toBe(401);
      expect((await adminGet(path, `${ADMIN_TOKEN}x`)).status).toBe(401);
      expect((await adminGet(path, "")).status).toBe(401);
      const basic = await SELF.fetch(`http://worker.internal${path}`, {
        headers: { Authorization: `Basic ${ADMIN_TOKEN}` },
      });
      expect(basic.status).toBe(401);
    }
  });

  it("answer 404 for unknown or malformed call SIDs", async () => {
    expect((await adminGet(`/calls/${newCallSid()}`)).status).toBe(404);
    expect((await adminGet("/calls/CA123")).status).toBe(404);
  });

  it("list recent calls, newest first", async () => {
    const first = newCallSid();
    const second = newCallSid();
    await answer(first);
    await answer(second);
    const { calls } = await waitFor(async () => {
      const body = await (await adminGet("/calls?limit=2")).json<{ calls: DirectoryEntry[] }>();
      return body.calls[0]?.callSid === second ? body : undefined;
    }, "the directory to list both calls");
    expect(calls.map((c) => c.callSid)).toEqual([second, first]);
  });
});

describe("GET /media/{CallSid}", () => {
  it("needs an upgrade, a valid signature over the wss URL, and a known call", async () => {
    const callSid = newCallSid();
    const wsUrl = `wss://edge.test/media/${callSid}`;
    const signature = await twilioSignature(AUTH_TOKEN, wsUrl, new Map());
    const get = (headers: Record<string, string>) =>
      SELF.fetch(`http://worker.internal/media/${callSid}`, { headers });
    expect((await get({ "X-Twilio-Signature": signature })).status).toBe(426);
    const overHttps = await twilioSignature(AUTH_TOKEN, wsUrl.replace("wss:", "https:"), new Map());
    expect((await get({ Upgrade: "websocket", "X-Twilio-Signature": overHttps })).status).toBe(403);
    expect((await get({ Upgrade: "websocket" })).status).toBe(403);
    expect((await get({ Upgrade: "websocket", "X-Twilio-Signature": signature })).status).toBe(404);
  });
});
