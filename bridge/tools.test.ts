import { describe, expect, it } from "vitest";
import { runTool, toolResultContent, toolSpecs } from "./tools.ts";

function context() {
  const hangups: string[] = [];
  return {
    hangups,
    ctx: { nowMs: Date.UTC(2026, 0, 2, 15, 4), requestHangup: (r: "agent") => hangups.push(r) },
  };
}

describe("tools", () => {
  it("offers only the enabled tools, with JSON schemas", () => {
    const specs = toolSpecs(["hang_up"]);
    expect(specs.map((spec) => spec.name)).toEqual(["hang_up"]);
    expect(specs[0]?.inputSchema.type).toBe("object");
  });

  it("answers the time in the requested zone", () => {
    const { ctx } = context();
    const outcome = runTool(["get_current_time"], "get_current_time", '{"timeZone":"Asia/Tokyo"}', ctx);
    expect(outcome.ok).toBe(true);
    const parsed = JSON.parse(toolResultContent(outcome));
    expect(parsed.isoTime).toBe("2026-01-02T15:04:00.000Z");
    expect(parsed.spoken).toContain("January 3, 2026");
  });

  it("hang_up asks the call to end", () => {
    const { ctx, hangups } = context();
    expect(runTool(["hang_up"], "hang_up", "{}", ctx).ok).toBe(true);
    expect(hangups).toEqual(["agent"]);
  });

  it("turns unknown tools, disabled tools and bad input into error results", () => {
    const { ctx, hangups } = context();
    expect(runTool(["hang_up"], "get_current_time", "{}", ctx)).toEqual({
      ok: false,
      error: 'unknown tool "get_current_time"',
    });
    const bad = runTool(["get_current_time"], "get_current_time", '{"timeZone":"Mars/Olympus"}', ctx);
    expect(bad.ok).toBe(false);
    expect(toolResultContent(bad)).toContain("Mars/Olympus");
    expect(runTool(["hang_up"], "hang_up", "{not json", ctx).ok).toBe(false);
    expect(hangups).toEqual([]);
  });
});
