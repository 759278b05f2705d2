/**
 * Model faults injected in the simulator, seen through the bridge: each is an error of that call only,
 * reported with its code (an `error` control), never a silent dead line (a `hangup` control and the
 * CALL_FAILED close, so the edge can end the call or resume it elsewhere).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultRequest } from "../bridge/simulator/faults.ts";
import { BridgeCloseCode } from "../shared/bridge-protocol.ts";
import { BridgePhone } from "./bridge-phone.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";

let stack: BridgeStack;
beforeAll(async () => {
  stack = await startBridgeStack();
});
afterAll(async () => stack?.close());

const FAULTS: Array<[string, FaultRequest, string]> = [
  ["throttled before the stream opens (HTTP 429)", { kind: "throttle", where: "http" }, "model_throttled"],
  ["throttled in the stream", { kind: "throttle", where: "stream" }, "model_throttled"],
  ["a model stream error mid-call", { kind: "stream_error", afterMs: 300 }, "model_stream_error"],
  ["a silent stream reset (no completionEnd)", { kind: "reset", afterMs: 300 }, "model_stream_ended"],
];

describe("model faults", () => {
  for (const [label, fault, code] of FAULTS) {
    it(`ends the call cleanly on ${label}`, async () => {
      stack.simulator.faults.add(fault);
      const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
      phone.start();
      expect(await phone.closed).toBe(BridgeCloseCode.CALL_FAILED);
      expect(phone.controlsOf("error")).toEqual([expect.objectContaining({ bridge: "error", code })]);
      expect(phone.controlsOf("hangup")).toEqual([{ bridge: "hangup", reason: "session_failed" }]);
    }, 15_000);
  }

  it("leaves the bridge serving the next call", async () => {
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    expect(phone.controlsOf("error")).toEqual([]);
    await phone.hangUp();
    expect(stack.bridge.server.health().activeCalls).toBe(0);
  }, 20_000);
});
