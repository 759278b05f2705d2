import { describe, expect, it } from "vitest";
import { escapeHtml, h, s, textOf, toHtml } from "./view-tree.ts";

describe("view trees", () => {
  it("escapes text and attribute values: model and caller text never becomes markup", () => {
    const hostile = `</p><script>alert("x")</script><img src=x onerror='y'>&amp;`;
    const view = h("p", { title: hostile, class: "line" }, "Agent: ", hostile);
    expect(toHtml(view)).toBe(
      `<p title="&lt;/p&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;amp;" class="line">` +
        `Agent: &lt;/p&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;amp;</p>`,
    );
    expect(textOf(view)).toBe(`Agent: ${hostile}`);
    expect(escapeHtml(`"'<>&`)).toBe("&quot;&#39;&lt;&gt;&amp;");
  });

  it("allows only attributes that cannot run script or load anything", () => {
    for (const name of ["onclick", "onerror", "style", "href", "src", "srcdoc", "formaction", "xlink:href"]) {
      expect(() => h("a", { [name]: "x" }), name).toThrow(/not allowed/);
    }
    expect(() => h("img onerror=x")).toThrow(/bad element name/);
    expect(toHtml(s("rect", { x: "1", width: "2", "data-stage": "model", "aria-label": "m" }))).toBe(
      `<rect x="1" width="2" data-stage="model" aria-label="m"></rect>`,
    );
  });

  it("flattens nested children and drops empty ones", () => {
    const view = h("ul", {}, [h("li", {}, "a"), null, [false, h("li", {}, "b")]], undefined);
    expect(toHtml(view)).toBe("<ul><li>a</li><li>b</li></ul>");
  });
});
