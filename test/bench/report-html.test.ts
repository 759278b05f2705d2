import { describe, expect, it } from "vitest";
import { escapeHtml, histogramSvg } from "./report-html.ts";

describe("the HTML report", () => {
  it("escapes text that lands in markup", () => {
    expect(escapeHtml(`<script>"x" & 'y'</script>`)).toBe(
      "&#60;script&#62;&#34;x&#34; &#38; &#39;y&#39;&#60;/script&#62;",
    );
  });

  it("draws one bar per non-empty bin, with the percentiles and the target marked", () => {
    const values = [1, 1, 2, 2, 2, 3, 10, 11];
    const svg = histogramSvg(values, "a <title>", 12, "target");
    expect(svg).toContain("a &#60;title&#62;");
    expect(svg).toContain("n=8");
    expect(svg.match(/<rect /g)?.length).toBeGreaterThanOrEqual(4);
    for (const label of [">p50<", ">p95<", ">p99<", ">target<"]) expect(svg).toContain(label);
  });

  it("says so when there are no samples", () => {
    expect(histogramSvg([], "empty")).toContain("no samples");
  });
});
