import { describe, expect, it } from "vitest";
import { type CallView, parseCallRecord, type TurnView } from "./call-record.ts";
import {
  callView,
  replyView,
  transcriptView,
  waterfallRows,
  waterfallScaleMs,
  waterfallView,
} from "./call-views.ts";
import { textOf, toHtml } from "./view-tree.ts";

const T0 = 1_800_000_000_000;

function turn(overrides: Partial<TurnView>): TurnView {
  return {
    turnIndex: 1,
    userText: "What are your opening hours?",
    assistantText: "We are open from nine until five.",
    heardText: "We are open from nine until five.",
    heardMs: 2000,
    replyMs: 2000,
    interrupted: false,
    timings: {
      callerSpeechEndMs: T0,
      lastAudioInputSentMs: T0 + 620,
      firstModelAudioMs: T0 + 650,
      firstFrameSentMs: T0 + 651,
    },
    atMs: T0 + 3000,
    ...overrides,
  };
}

function record(overrides: Partial<CallView>): CallView {
  // Through the page's own parser, as the pages read it from GET /calls/{sid}.
  return parseCallRecord({
    callSid: `CA${"1".repeat(32)}`,
    accountSid: null,
    from: "+14155550100",
    to: "+18005550199",
    status: "in-progress",
    endReason: null,
    createdAtMs: T0 - 5000,
    updatedAtMs: T0,
    endedAtMs: null,
    bridge: { id: "bridge-1", region: "us-east-1" },
    streamBridgeId: "bridge-1",
    streamSid: null,
    sessionWarm: true,
    statusHistory: [],
    streamEvents: [],
    transcript: [],
    turns: [],
    badFrames: {},
    ...overrides,
  });
}

describe("waterfall", () => {
  it("lays the turn out from the caller's speech end: last audio in, model's first audio, first frame", () => {
    expect(waterfallRows(turn({}).timings)).toEqual([
      { key: "uplink", label: "last audio in", startMs: 0, endMs: 620 },
      { key: "model", label: "model 1st audio", startMs: 620, endMs: 650 },
      { key: "bridge", label: "bridge 1st frame", startMs: 650, endMs: 651 },
    ]);
    expect(waterfallRows({ firstFrameSentMs: T0 })).toBeNull();
    expect(waterfallRows({ callerSpeechEndMs: T0, firstFrameSentMs: T0 + 900 })).toEqual([
      { key: "bridge", label: "bridge 1st frame", startMs: 0, endMs: 900 },
    ]);
  });

  it("draws one bar per stage on a shared scale, with its duration", () => {
    const rows = waterfallRows(turn({}).timings) ?? [];
    const scaleMs = waterfallScaleMs([turn({})]);
    expect(scaleMs).toBe(750);
    const svg = toHtml(waterfallView(rows, scaleMs));
    expect(svg.match(/<rect /g)).toHaveLength(3);
    expect(svg).toContain("+620 ms");
    expect(svg).toContain("+30 ms");
    expect(svg).toContain('data-stage="model"');
  });
});

describe("transcript", () => {
  it("shows the heard part of an interrupted reply apart from the unheard rest", () => {
    const cut = turn({
      interrupted: true,
      interruptedBy: "vad",
      heardText: "We are open ",
      heardMs: 800,
    });
    const html = toHtml(replyView(cut));
    expect(html).toContain('<span class="heard" title="heard for 800 ms">We are open </span>');
    expect(html).toContain(
      '<span class="unheard" title="not heard: the caller talked over it">from nine until five.</span>',
    );
    expect(html).toContain("interrupted (vad)");
    expect(toHtml(replyView(turn({})))).toBe('<span class="heard">We are open from nine until five.</span>');
  });

  it("lists finished turns, then the lines of the turn in progress", () => {
    const view = transcriptView(
      record({
        turns: [turn({ turnIndex: 0, userText: "", timings: {} }), turn({ turnIndex: 1 })],
        transcript: [
          { turnIndex: 1, role: "USER", text: "What are your opening hours?", atMs: T0 },
          { turnIndex: 2, role: "USER", text: "And on Sundays?", atMs: T0 + 5000 },
        ],
      }),
    );
    const html = toHtml(view);
    expect(html.match(/<li class="turn"/g)).toHaveLength(2);
    expect(html).toContain(
      '<li class="turn live"><p class="line caller"><b>Caller </b>And on Sundays?</p></li>',
    );
    expect(textOf(view)).toContain("greeting");
  });

  it("shows what the model and the caller said as text, whatever it contains", () => {
    const hostile = `<img src=x onerror="alert(1)">`;
    const view = callView(
      record({
        from: hostile,
        turns: [
          turn({ userText: hostile, assistantText: `${hostile}!`, heardText: hostile, interrupted: true }),
        ],
      }),
      T0,
    );
    const html = toHtml(view);
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(textOf(view)).toContain(hostile);
  });

  it("names the bridge and the pool's answer", () => {
    const text = textOf(callView(record({ sessionWarm: false }), T0));
    expect(text).toContain("bridge-1 (us-east-1)");
    expect(text).toContain("pool miss (cold session)");
    expect(textOf(callView(record({ sessionWarm: null, streamBridgeId: null, bridge: null }), T0))).toContain(
      "no bridge",
    );
  });
});
