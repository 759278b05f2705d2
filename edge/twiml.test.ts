import { describe, expect, it } from "vitest";
import { edge } from "./test-support/harness.ts";
import { APOLOGY_TEXT, renderApology, renderConnectStream } from "./twiml.ts";

describe("TwiML", () => {
  it.each(edge.twimlVectors)("renders like the twilio package's VoiceResponse: $name", (vector) => {
    const rendered =
      vector.kind === "stream"
        ? renderConnectStream(vector)
        : renderApology(vector.sayText === "" ? undefined : vector.sayText);
    expect(rendered).toBe(vector.twiml);
  });

  it("apologises with the default text and hangs up", () => {
    expect(renderApology()).toContain(`<Say>${APOLOGY_TEXT}</Say><Hangup/>`);
  });
});
