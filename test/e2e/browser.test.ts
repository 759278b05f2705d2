/**
 * The pages in headless Chromium against the whole local stack (workerd, bridge, simulator):
 * - the softphone calls the agent with a fake microphone playing a speech fixture, through the same
 *   Media Streams path as Twilio: it hears the greeting, its speech is answered, the transcript and the
 *   turn's latency waterfall appear, and the call ends cleanly when it hangs up;
 * - the dashboard shows a call placed by the Twilio phone simulator, live and then finished, with its
 *   transcript (an interrupted reply split into heard and unheard), waterfalls, pool hit or miss and
 *   bridge, and shows a hostile caller ID as text.
 * Screenshots go to bench-results/browser/ (gitignored).
 */

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { placeCall } from "../phone/phone-call.ts";
import { SpeechLibrary } from "../phone/script.ts";
import { fetchCallRecord } from "../phone/waterfall.ts";
import { newCallIdentity } from "../phone/webhook.ts";
import { chromiumProblem, fakeMicrophoneWav, launchChromium, OUTPUT_DIR } from "./browser.ts";
import { startTestStack, type TestStack } from "./test-stack.ts";

const problem = chromiumProblem();
const inCi = process.env.CI === "true";
if (problem && !inCi) console.warn(`browser tests skipped: ${problem}`);

/** Watches a page for script errors and CSP violations (the pages must run under their own CSP). */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" || /Content Security Policy|Trusted Type/i.test(message.text())) {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  return problems;
}

async function signIn(page: Page, url: string, adminToken: string): Promise<void> {
  await page.goto(url);
  await page.locator("#token").fill(adminToken);
  await page.locator("#signin button[type=submit]").click();
  await page.locator("#signout").waitFor({ state: "visible" });
}

describe.skipIf(problem !== null && !inCi)("the pages in headless Chromium", () => {
  const library = new SpeechLibrary();
  let stack: TestStack;

  beforeAll(async () => {
    // In CI a missing Chromium is a failure, said plainly, not a silent skip.
    if (problem) throw new Error(`${problem} (CI=true: the browser tests must run)`);
    stack = await startTestStack({});
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("the softphone completes a turn, then talks over a reply: its queue is cleared and the cut shown", async () => {
    const speech = library.utterance("order-status");
    // The greeting lasts about 3.7 s; the opening-hours reply about 5 s, and "not right" lands in it.
    const microphone = fakeMicrophoneWav(
      "softphone",
      [
        { fixture: "order-status", atMs: 5000 },
        { fixture: "opening-hours", atMs: 12_000 },
        { fixture: "not-right", atMs: 16_000 },
      ],
      20_000,
    );
    const browser = await launchChromium({ fakeMicrophoneWav: microphone });
    try {
      const page = await browser.context.newPage();
      const problems = watch(page);
      await signIn(page, `${stack.edgeUrl}/phone`, stack.adminToken);
      await page.locator("#call").click();
      await page.locator("#phone[data-state=in-call]").waitFor({ timeout: 10_000 });

      // The caller's words (recognised by the simulator from the fake microphone's audio) and the reply.
      const callerLine = page.locator(".line.caller", { hasText: speech.text ?? "" });
      await page.locator("#transcript").locator(callerLine).waitFor({ timeout: 25_000 });
      const answered = page.locator("#transcript li.turn:not(.live)", { has: callerLine });
      await answered.locator("svg.waterfall rect").first().waitFor({ timeout: 10_000 });
      await expect.poll(() => answered.locator(".line.agent").textContent()).not.toBe("Agent ");
      const greeting = page.locator("#transcript li.turn[data-turn='0'] .line.agent");
      expect(await greeting.textContent()).toMatch(/Hello/);

      // What the page played and echoed: the greeting and the reply, marks echoed as their audio played.
      const counters = page.locator("#counters");
      await expect
        .poll(async () => Number(await counters.getAttribute("data-played-ms")))
        .toBeGreaterThan(3000);
      expect(Number(await counters.getAttribute("data-marks-echoed"))).toBeGreaterThan(0);
      expect(await page.locator(".summary .pool").textContent()).toMatch(/pool (hit|miss)/);

      // The barge-in: the edge sends clear, the page empties its queue (and echoes the pending marks),
      // and the record shows the reply cut where the caller stopped hearing it.
      await page.locator("#transcript .badge.interrupted").waitFor({ timeout: 25_000 });
      expect(Number(await counters.getAttribute("data-clears"))).toBeGreaterThan(0);
      expect(await page.locator("#transcript .unheard").count()).toBeGreaterThan(0);
      await page.screenshot({ path: `${OUTPUT_DIR}softphone.png`, fullPage: true });

      await page.locator("#hangup").click();
      await page.locator("#phone[data-state=ended]").waitFor();
      const callSid = (await page.locator(".summary .sid").textContent()) ?? "";
      expect(callSid).toMatch(/^CAbe11[0-9a-f]{28}$/);
      await expect
        .poll(async () => (await fetchCallRecord(stack.edgeUrl, stack.adminToken, callSid)).status)
        .toBe("completed");
      const view = await fetchCallRecord(stack.edgeUrl, stack.adminToken, callSid);
      expect(view.turns.map((turn) => turn.userText)).toContain(speech.text);
      expect(view.streamBridgeId).toBe("bridge-1");
      expect(problems).toEqual([]);
    } catch (error) {
      throw new Error(`${String(error)}\n--- stack output ---\n${stack.output().slice(-6000)}`);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it("the dashboard shows a phone call live, then its transcript, barge-in and waterfalls", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const problems = watch(page);
      await signIn(page, `${stack.edgeUrl}/dashboard`, stack.adminToken);
      // A caller ID is the caller's to choose: the dashboard must show it as text, never run it.
      const hostileFrom = `<img src=x onerror="document.title='owned'">`;
      const identity = newCallIdentity(hostileFrom);
      const card = page.locator(`section.call[data-call-sid="${identity.callSid}"]`);
      const call = placeCall({
        edgeBaseUrl: stack.edgeUrl,
        authToken: stack.authToken,
        identity,
        tailMs: 200,
        script: [
          { kind: "waitForReply" },
          { kind: "say", utterance: library.utterance("order-status") },
          { kind: "waitForReply" },
          { kind: "say", utterance: library.utterance("opening-hours") },
          { kind: "bargeIn", utterance: library.utterance("not-right"), afterHeardMs: 600 },
          { kind: "waitForReply" },
        ],
      });
      await page
        .locator(`section.call[data-call-sid="${identity.callSid}"][data-status="in-progress"]`)
        .waitFor({
          timeout: 15_000,
        });
      const result = await call;
      expect(result.invalidFrames).toEqual([]);

      await card.and(page.locator("[data-status=completed]")).waitFor({ timeout: 10_000 });
      await card.locator(".badge.interrupted").waitFor({ timeout: 5000 });
      expect(await card.locator("header").textContent()).toContain(hostileFrom);
      expect(await card.locator("img").count()).toBe(0);
      expect(await page.title()).not.toBe("owned");
      expect(await card.locator(".line.caller").allTextContents()).toEqual(
        expect.arrayContaining([expect.stringContaining(library.utterance("order-status").text ?? "")]),
      );
      expect(await card.locator(".unheard").count()).toBeGreaterThan(0);
      expect(await card.locator("svg.waterfall g[data-stage]").count()).toBeGreaterThanOrEqual(3);
      expect(await card.locator(".pool").textContent()).toMatch(/pool (hit|miss)/);
      expect(await card.locator(".bridge").textContent()).toContain("bridge-1");
      await page.screenshot({ path: `${OUTPUT_DIR}dashboard.png`, fullPage: true });
      expect(problems).toEqual([]);
    } catch (error) {
      throw new Error(`${String(error)}\n--- stack output ---\n${stack.output().slice(-6000)}`);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
