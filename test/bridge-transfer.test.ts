/**
 * Transfers through the bridge: the caller asks for a person, the model calls `transfer`, the cached
 * transfer prompt plays, and once it has been heard the real `twilio` package redirects the live call with
 * <Dial> TwiML (a stand-in of Twilio's Calls API receives it); the bridge then ends the call with a
 * `hangup` (transfer) and CALL_ENDED. Without Twilio credentials the transfer is refused with a log line
 * and the model is told, and the call goes on.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialTwiml } from "../bridge/call-control.ts";
import { REPLY_TEXTS } from "../bridge/simulator/replies.ts";
import { BridgeCloseCode } from "../shared/bridge-protocol.ts";
import { BridgePhone, newCallSid } from "./bridge-phone.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";
import { loadAudioFixture } from "./fixtures/fixtures.ts";
import { startTwilioCallsStandIn, type TwilioCallsStandIn } from "./twilio-api/calls-stand-in.ts";

const ACCOUNT = `AC${"4".repeat(32)}`;
const TOKEN = "transfer-test-auth-token";
const AGENT_NUMBER = "+15557654321";
const asset = (name: string) => fileURLToPath(new URL(`../bridge/simulator/assets/${name}`, import.meta.url));

const logs: Array<Record<string, unknown>> = [];
const heardAtRedirect = new Map<string, number>();
const phones = new Map<string, BridgePhone>();
let twilioApi: TwilioCallsStandIn;
let withTwilio: BridgeStack;
let withoutTwilio: BridgeStack;

beforeAll(async () => {
  twilioApi = await startTwilioCallsStandIn({
    accountSid: ACCOUNT,
    authToken: TOKEN,
    onRedirect: (callSid) => heardAtRedirect.set(callSid, phones.get(callSid)?.heardMs ?? -1),
  });
  const logSink = (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>);
  withTwilio = await startBridgeStack({
    env: {
      PROMPTS: "transfer",
      PROMPT_TRANSFER_TEXT: REPLY_TEXTS.ack,
      PROMPT_TRANSFER_FILE: asset("ack-16k.wav"),
      TRANSFER_NUMBER: AGENT_NUMBER,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: twilioApi.url,
    },
    logLevel: "info",
    logSink,
  });
  withoutTwilio = await startBridgeStack({
    env: { PROMPTS: "transfer", PROMPT_TRANSFER_FILE: asset("ack-16k.wav"), TRANSFER_NUMBER: AGENT_NUMBER },
    logLevel: "info",
    logSink,
  });
});
afterAll(async () => {
  await withTwilio?.close();
  await withoutTwilio?.close();
  await twilioApi?.close();
});

async function callAndAskForAPerson(stack: BridgeStack): Promise<BridgePhone> {
  const callSid = newCallSid();
  twilioApi.addCall({ sid: callSid, from: "+15550001111", to: "+15550002222", status: "in-progress" });
  const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET, callSid });
  phones.set(callSid, phone);
  phone.start();
  await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
  await phone.say(loadAudioFixture("transfer", "speech").mulaw);
  return phone;
}

describe("transfer", () => {
  it("plays the transfer prompt, then has Twilio dial the configured number, and ends the call", async () => {
    const phone = await callAndAskForAPerson(withTwilio);
    expect(await phone.closed).toBe(BridgeCloseCode.CALL_ENDED);
    expect(phone.controlsOf("hangup")).toEqual([{ bridge: "hangup", reason: "transfer" }]);
    const update = twilioApi.updates.find((u) => u.callSid === phone.callSid);
    expect(update).toEqual({
      callSid: phone.callSid,
      form: [["Twiml", dialTwiml(AGENT_NUMBER)]],
      authenticatedAs: ACCOUNT,
      status: 200,
    });
    const prompt = phone.controlsOf("turn").find((t) => t.cachedPrompt === "transfer");
    expect(prompt).toMatchObject({ heardText: REPLY_TEXTS.ack, interrupted: false });
    // Twilio was asked only after the caller had heard the whole prompt.
    expect(heardAtRedirect.get(phone.callSid)).toBeGreaterThanOrEqual(
      phone.controlsOf("turn")[0]!.heardMs + prompt!.heardMs,
    );
    expect(logs).toContainEqual(expect.objectContaining({ msg: "call transferred", callSid: phone.callSid }));
  }, 40_000);

  it("refuses without Twilio credentials, tells the model, and the call goes on", async () => {
    const phone = await callAndAskForAPerson(withoutTwilio);
    await phone.waitFor(
      () => phone.controlsOf("turn").some((t) => t.assistantText === REPLY_TEXTS.tool_done),
      15_000,
      "the model's answer to the refusal",
    );
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: "transfer refused",
        callSid: phone.callSid,
        reason: "no Twilio credentials are configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)",
      }),
    );
    expect(phone.controlsOf("turn").some((t) => t.cachedPrompt === "transfer")).toBe(false);
    const record = withoutTwilio.simulator.sessions
      .list()
      .find((r) => r.turns.some((t) => t.toolUse?.toolName === "transfer"));
    expect(record?.received).toContain("toolResult");
    expect(twilioApi.updates.some((u) => u.callSid === phone.callSid)).toBe(false);
    expect(phone.closeCode).toBeNull();
    await phone.hangUp();
  }, 40_000);
});
