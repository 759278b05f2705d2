/** The pages and their assets as the Worker serves them, with their security headers. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ASSET_NAMES, PAGE_CSP } from "./web-routes.ts";

const get = (path: string) => SELF.fetch(`http://worker.internal${path}`);

describe("pages", () => {
  for (const path of ["/phone", "/dashboard"]) {
    it(`${path} is HTML under a strict CSP, with no inline script or style`, async () => {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toBe(PAGE_CSP);
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
      ]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|data:|https?:/);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toBe("no-store");
      const html = await response.text();
      // Every script is an external same-origin file; nothing inline that the CSP would have to allow.
      for (const script of html.match(/<script\b[^>]*>/g) ?? []) expect(script).toMatch(/ src="\/assets\//);
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i);
      expect(html).not.toMatch(/https?:\/\//);
    });
  }

  it("allows the microphone on the softphone only", async () => {
    expect((await get("/phone")).headers.get("permissions-policy")).toContain("microphone=(self)");
    expect((await get("/dashboard")).headers.get("permissions-policy")).toContain("microphone=()");
  });
});

describe("assets", () => {
  it("serves the built scripts and stylesheet with their types", async () => {
    expect([...ASSET_NAMES].sort()).toEqual(["app.css", "dashboard.js", "phone-worklet.js", "phone.js"]);
    const script = await get("/assets/phone.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toContain("nova-phone.admin-token");
    expect((await get("/assets/app.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("serves nothing else", async () => {
    for (const path of ["/assets/phone.html", "/assets/nope.js", "/assets/..%2Fwrangler.toml", "/assets/"]) {
      const response = await get(path);
      await response.body?.cancel();
      expect(response.status, path).toBe(404);
    }
  });
});
