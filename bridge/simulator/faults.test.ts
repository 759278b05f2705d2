import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.ts";
import { FaultPlan, parseFaultRequest } from "./faults.ts";

describe("FaultPlan", () => {
  it("gives each fault to the next sessions, one session at a time", () => {
    const plan = new FaultPlan();
    plan.add({ kind: "throttle", where: "http", sessions: 2 });
    plan.add({ kind: "reset", afterMs: 100 });
    expect(plan.takeForNewSession()).toEqual([
      { kind: "throttle", where: "http" },
      { kind: "reset", afterMs: 100 },
    ]);
    expect(plan.pending()).toEqual([{ kind: "throttle", where: "http", sessions: 1 }]);
    expect(plan.takeForNewSession()).toEqual([{ kind: "throttle", where: "http" }]);
    expect(plan.takeForNewSession()).toEqual([]);
  });

  it("parses requests from the control route and refuses bad ones", () => {
    expect(parseFaultRequest('{"kind":"stream_error","afterTurns":2,"sessions":3}')).toEqual({
      kind: "stream_error",
      afterTurns: 2,
      sessions: 3,
    });
    expect(() => parseFaultRequest('{"kind":"explode"}')).toThrow(AppError);
    expect(() => parseFaultRequest('{"kind":"throttle","where":"dns"}')).toThrow(/where/);
    expect(() => parseFaultRequest('{"kind":"reset","afterMs":-1}')).toThrow(/afterMs/);
    expect(() => parseFaultRequest("not json")).toThrow(AppError);
  });
});
