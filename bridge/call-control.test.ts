/**
 * Call control through the real `twilio` package against a stand-in of Twilio's Calls API: the redirect's
 * request as Twilio receives it, and Twilio's refusals (credentials, unknown call, a call already over)
 * surfacing as twilio_api errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../shared/errors.ts";
import { startTwilioCallsStandIn, type TwilioCallsStandIn } from "../test/twilio-api/calls-stand-in.ts";
import { dialTwiml, twilioCallControl } from "./call-control.ts";

const ACCOUNT = `AC${"1".repeat(32)}`;
const TOKEN = "stand-in-auth-token";
const CALL = `CA${"2".repeat(32)}`;
const ENDED = `CA${"3".repeat(32)}`;
let twilioApi: TwilioCallsStandIn;
const redirected: string[] = [];

beforeAll(async () => {
  twilioApi = await startTwilioCallsStandIn({
    accountSid: ACCOUNT,
    authToken: TOKEN,
    calls: [
      { sid: CALL, from: "+15550001111", to: "+15550002222", status: "in-progress" },
      { sid: ENDED, from: "+15550001111", to: "+15550002222", status: "completed" },
    ],
    onRedirect: (callSid) => redirected.push(callSid),
  });
});
afterAll(async () => twilioApi?.close());

async function refusal(promise: Promise<void>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect(error instanceof AppError ? error.code : "").toBe("twilio_api");
    return error instanceof Error ? error.message : "";
  }
  throw new Error("expected a refusal");
}

describe("call control", () => {
  it("renders a <Dial> to the transfer number", () => {
    expect(dialTwiml("+15557654321")).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="30">+15557654321</Dial></Response>',
    );
  });

  it("redirects a live call with the TwiML as Twilio's Calls update receives it", async () => {
    const control = twilioCallControl({ accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl: twilioApi.url });
    await control.redirect(CALL, dialTwiml("+15557654321"));
    expect(twilioApi.updates.at(-1)).toEqual({
      callSid: CALL,
      form: [["Twiml", dialTwiml("+15557654321")]],
      authenticatedAs: ACCOUNT,
      status: 200,
    });
    expect(redirected).toEqual([CALL]);
  });

  it("reports Twilio's refusals with their status and code", async () => {
    const wrongToken = twilioCallControl({
      accountSid: ACCOUNT,
      authToken: "wrong",
      apiBaseUrl: twilioApi.url,
    });
    expect(await refusal(wrongToken.redirect(CALL, dialTwiml("+15557654321")))).toMatch(
      /HTTP 401, code 20003/,
    );
    const control = twilioCallControl({ accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl: twilioApi.url });
    expect(await refusal(control.redirect(`CA${"9".repeat(32)}`, dialTwiml("+15557654321")))).toMatch(
      /HTTP 404, code 20404/,
    );
    expect(await refusal(control.redirect(ENDED, dialTwiml("+15557654321")))).toMatch(
      /HTTP 400, code 21220: Call is not in-progress/,
    );
    expect(await refusal(control.redirect(CALL, "<Dial>+15557654321</Dial>"))).toMatch(
      /HTTP 400, code 20001/,
    );
    expect(redirected).toEqual([CALL]);
  });
});
