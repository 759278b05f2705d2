/**
 * The bridge's front door with real sockets: the token and the protocol version are checked before the
 * upgrade (plain HTTP refusals with a JSON body), health, capacity, malformed frames answered with named
 * close codes, and two concurrent calls that do not affect each other.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLY_TEXTS } from "../bridge/simulator/replies.ts";
import {
  BRIDGE_PROTOCOL_HEADER,
  BRIDGE_PROTOCOL_VERSION,
  BridgeCloseCode,
  bridgeMediaPath,
  buildResume,
  parseBridgeHealth,
} from "../shared/bridge-protocol.ts";
import { signToken } from "../shared/signed-token.ts";
import { BridgePhone, bridgeToken, newCallSid } from "./bridge-phone.ts";
import { tryUpgrade } from "./bridge-requests.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";
import { loadAudioFixture } from "./fixtures/fixtures.ts";

let stack: BridgeStack;
beforeAll(async () => {
  stack = await startBridgeStack({ env: { MAX_CALLS: "2" } });
});
afterAll(async () => stack?.close());

async function headersFor(callSid: string, token?: string): Promise<Record<string, string>> {
  return {
    authorization: `Bearer ${token ?? (await bridgeToken(TEST_SECRET, callSid))}`,
    [BRIDGE_PROTOCOL_HEADER]: String(BRIDGE_PROTOCOL_VERSION),
  };
}

describe("bridge server", () => {
  it("reports its health", async () => {
    const response = await fetch(`${stack.bridge.url}/healthz`);
    expect(response.status).toBe(200);
    expect(parseBridgeHealth(await response.text())).toEqual({
      status: "ok",
      bridgeId: "bridge-test",
      region: "us-east-1",
      protocolVersion: BRIDGE_PROTOCOL_VERSION,
      activeCalls: 0,
      maxCalls: 2,
    });
  });

  it("refuses bad tokens and other protocol versions before the upgrade", async () => {
    const callSid = newCallSid();
    const path = bridgeMediaPath(callSid);
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ["no token", { [BRIDGE_PROTOCOL_HEADER]: "1" }, 401, "missing Authorization"],
      [
        "other secret",
        await headersFor(callSid, await bridgeToken("another-secret-0123456789", callSid)),
        401,
        "signature",
      ],
      [
        "other call",
        await headersFor(callSid, await bridgeToken(TEST_SECRET, newCallSid())),
        401,
        "another call",
      ],
      [
        "expired",
        await headersFor(
          callSid,
          await signToken(TEST_SECRET, { purpose: "bridge", subject: callSid, expiresAtMs: Date.now() - 1 }),
        ),
        401,
        "expired",
      ],
      [
        "stream token",
        await headersFor(
          callSid,
          await signToken(TEST_SECRET, {
            purpose: "stream",
            subject: callSid,
            expiresAtMs: Date.now() + 60_000,
          }),
        ),
        401,
        "not bridge",
      ],
      ["no version", { authorization: (await headersFor(callSid)).authorization! }, 426, "x-bridge-protocol"],
      ["version 2", { ...(await headersFor(callSid)), [BRIDGE_PROTOCOL_HEADER]: "2" }, 426, "must be 1"],
    ];
    for (const [label, headers, status, reason] of cases) {
      const answer = await tryUpgrade(stack.bridge.url, path, headers);
      expect([label, answer.status]).toEqual([label, status]);
      expect(JSON.parse(answer.body).message).toContain(reason);
    }
    expect(
      (await tryUpgrade(stack.bridge.url, "/v1/calls/CAnope/media", await headersFor(callSid))).status,
    ).toBe(404);
    expect(stack.bridge.server.stats().callsStarted).toBe(0);
  });

  it("keeps concurrent calls apart: a malformed frame ends only its own call; capacity is enforced", async () => {
    const alice = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    const bob = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    alice.start();
    bob.start();
    const carol = newCallSid();
    expect((await tryUpgrade(stack.bridge.url, bridgeMediaPath(carol), await headersFor(carol))).status).toBe(
      503,
    );

    await bob.waitFor(() => bob.controlsOf("turn").length === 1, 15_000, "bob's greeting");
    bob.sendRaw("this is not JSON");
    expect(await bob.closed).toBe(BridgeCloseCode.PROTOCOL_ERROR);

    await alice.waitFor(() => alice.controlsOf("turn").length === 1, 15_000, "alice's greeting");
    await alice.say(loadAudioFixture("yes-please", "speech").mulaw);
    await alice.waitFor(() => alice.controlsOf("turn").length === 2, 15_000, "alice's answer");
    expect(alice.controlsOf("turn")[1]).toMatchObject({ assistantText: REPLY_TEXTS.ack, interrupted: false });
    expect(alice.closeCode).toBeNull();
    expect(alice.controlsOf("error")).toEqual([]);
    await alice.hangUp();
    expect(stack.bridge.server.stats().malformedFrames).toBe(1);
  }, 40_000);

  it("names the close code for each kind of bad frame", async () => {
    const frames: Array<[string | Uint8Array, number]> = [
      ['{"bridge":"launch"}', BridgeCloseCode.PROTOCOL_ERROR],
      ['{"event":"media","streamSid":"MZ1"}', BridgeCloseCode.PROTOCOL_ERROR],
      [new Uint8Array([1, 2, 3]), BridgeCloseCode.PROTOCOL_ERROR],
      [JSON.stringify({ event: "media", pad: "x".repeat(70_000) }), BridgeCloseCode.MESSAGE_TOO_BIG],
    ];
    for (const [frame, code] of frames) {
      const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
      phone.sendRaw(frame);
      expect(await phone.closed).toBe(code);
    }
    // A resume once the conversation has started is out of order.
    const late = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    late.start();
    late.sendRaw(
      buildResume({
        callSid: late.callSid,
        reason: "failover",
        history: [],
        turnsCompleted: 0,
        callStartedAtMs: 0,
      }),
    );
    expect(await late.closed).toBe(BridgeCloseCode.PROTOCOL_ERROR);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stack.bridge.server.health().activeCalls).toBe(0);
  });
});
