import { describe, expect, it } from "vitest";
import {
  LOCAL_WORKERD_V8_FLAGS,
  WORKERD_V8_FLAGS_VARIABLE,
  workerdV8FlagsValue,
} from "./workerd-v8-flags.ts";

describe("the local workerd's V8 flags", () => {
  it("are the local flags unless the environment sets the variable, even to nothing", () => {
    expect(workerdV8FlagsValue({})).toBe("--max-semi-space-size=1 --initial-old-space-size=8");
    expect(workerdV8FlagsValue({})).toBe(LOCAL_WORKERD_V8_FLAGS.join(" "));
    expect(workerdV8FlagsValue({ [WORKERD_V8_FLAGS_VARIABLE]: "--trace-gc" })).toBe("--trace-gc");
    expect(workerdV8FlagsValue({ [WORKERD_V8_FLAGS_VARIABLE]: "" })).toBe("");
  });
});
