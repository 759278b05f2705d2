/**
 * Intent routing: the model's tool calls become actions of the call.
 * - `transfer`: the cached transfer prompt plays (unless the agent already spoke in this turn), then, once
 *   the caller has heard what was playing, Twilio redirects the live call to the configured number with
 *   `<Dial>` TwiML (call-control.ts) and the call ends here (Twilio leaves the media stream). Without a
 *   number or Twilio credentials the transfer is refused with a log line and the model is told, in the
 *   tool result, that it cannot transfer; a redirect Twilio refuses is told to the model the same way.
 * - `hang_up`: the call ends once the goodbye has been heard: the cached goodbye if the agent said nothing
 *   in this turn (then the model gets no tool result: nothing more is to be said), else the agent's own.
 * - Other built-in tools run at once and answer; a deployer's own tools (CustomTool) may take time: after
 *   `holdAfterMs` the caller hears the hold prompt, repeated until the result is there, and the result
 *   tells the model what the caller heard meanwhile.
 */
import { AppError, describeError, errorCode } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { type CallControl, dialTwiml } from "./call-control.ts";
import type { CallPrompts, HoldHandle } from "./call-prompts.ts";
import type { TransferConfig } from "./config-fast-paths.ts";
import { type BuiltInToolName, runTool, type ToolSpec, toolResultContent } from "./tools.ts";

/** A tool of the deployer's, offered to the model beside the built-in ones. */
export interface CustomTool {
  spec: ToolSpec;
  run(input: unknown, context: { nowMs: number; signal: AbortSignal }): Promise<Record<string, unknown>>;
}

/** What the actions need of their call. */
export interface CallActionsHost {
  sendToolResult(toolUseId: string, resultJson: string): void;
  /** Whether a reply (the model's or a prompt) is queued or playing. */
  replyPlaying(): boolean;
  /** Whether the model has spoken in the current turn. */
  agentSpokeThisTurn(): boolean;
  /** Ends the call once what is playing has been heard (the call's hang-up logic). */
  requestHangup(): void;
  /** Twilio took the call elsewhere: tell the edge and end the call here. */
  transferred(): void;
}

export interface CallActionsOptions {
  callSid: string;
  tools: readonly BuiltInToolName[];
  customTools: readonly CustomTool[];
  transfer: TransferConfig;
  /** Null without Twilio credentials. */
  callControl: CallControl | null;
  holdAfterMs: number;
  prompts: CallPrompts;
  host: CallActionsHost;
  logger: Logger;
}

const QUIET_POLL_MS = 50;
const QUIET_WAIT_MAX_MS = 30_000;

export class CallActions {
  readonly #o: CallActionsOptions;
  readonly #log: Logger;
  readonly #running = new Set<AbortController>();
  #transferring = false;
  #stopped = false;

  constructor(options: CallActionsOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  onToolUse(toolName: string, toolUseId: string, input: string): void {
    if (this.#stopped) return;
    const custom = this.#o.customTools.find((tool) => tool.spec.name === toolName);
    if (custom) {
      this.#runCustom(custom, toolUseId, input);
      return;
    }
    const requested: { hangup: boolean; transfer: { reason: string | undefined } | null } = {
      hangup: false,
      transfer: null,
    };
    const spokeBefore = this.#o.host.agentSpokeThisTurn();
    const outcome = runTool(this.#o.tools, toolName, input, {
      nowMs: Date.now(),
      requestHangup: () => {
        requested.hangup = true;
        this.#o.host.requestHangup();
      },
      requestTransfer: (reason) => {
        requested.transfer = { reason };
      },
    });
    this.#log.info("tool used", {
      toolName,
      ok: outcome.ok,
      ...(outcome.ok ? {} : { error: outcome.error }),
    });
    if (requested.transfer !== null) {
      this.#transfer(toolUseId, requested.transfer.reason, spokeBefore);
      return;
    }
    if (requested.hangup && !spokeBefore && this.#o.prompts.play("goodbye")) return;
    this.#o.host.sendToolResult(toolUseId, toolResultContent(outcome));
  }

  /** The call is ending: running tools are abandoned, no more actions. */
  stop(): void {
    this.#stopped = true;
    for (const controller of this.#running) controller.abort();
    this.#running.clear();
  }

  #transfer(toolUseId: string, reason: string | undefined, spokeBefore: boolean): void {
    const { number } = this.#o.transfer;
    const control = this.#o.callControl;
    const refusal = this.#transferring
      ? "a transfer is already under way"
      : number === null
        ? "no transfer number is configured (TRANSFER_NUMBER)"
        : control === null
          ? "no Twilio credentials are configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)"
          : null;
    if (refusal !== null || number === null || control === null) {
      this.#log.warn("transfer refused", { reason: refusal });
      this.#o.host.sendToolResult(
        toolUseId,
        JSON.stringify({
          error: `The caller cannot be transferred: ${refusal}. Tell them you cannot transfer the call, and offer to help yourself.`,
        }),
      );
      return;
    }
    this.#transferring = true;
    this.#log.info("transferring the call", { reason: reason ?? null });
    if (!spokeBefore) this.#o.prompts.play("transfer");
    void this.#whenQuiet()
      .then(() => {
        if (this.#stopped) throw new AppError("call_failed", "the call ended before the transfer");
        return control.redirect(this.#o.callSid, dialTwiml(number));
      })
      .then(
        () => {
          this.#log.info("call transferred");
          this.#o.host.transferred();
        },
        (error: unknown) => {
          this.#transferring = false;
          if (this.#stopped) return;
          this.#log.error("transfer failed", { code: errorCode(error), error: describeError(error) });
          this.#o.host.sendToolResult(
            toolUseId,
            JSON.stringify({
              error: "The transfer did not go through. Apologise to the caller and offer to help yourself.",
            }),
          );
        },
      );
  }

  /** Resolves once nothing plays any more (or the call stops, or after a bound). */
  #whenQuiet(): Promise<void> {
    const deadline = Date.now() + QUIET_WAIT_MAX_MS;
    return new Promise((resolve) => {
      const check = () => {
        if (this.#stopped || !this.#o.host.replyPlaying() || Date.now() > deadline) resolve();
        else setTimeout(check, QUIET_POLL_MS);
      };
      check();
    });
  }

  #runCustom(tool: CustomTool, toolUseId: string, input: string): void {
    const controller = new AbortController();
    this.#running.add(controller);
    const startedMs = performance.now();
    const held: { hold: HoldHandle | null } = { hold: null };
    const holdTimer = setTimeout(() => {
      held.hold = this.#o.prompts.hold();
      if (held.hold) this.#log.info("caller on hold", { toolName: tool.spec.name });
    }, this.#o.holdAfterMs);
    const running = (async () => {
      const parsed: unknown = input.trim() === "" ? {} : JSON.parse(input);
      return tool.run(parsed, { nowMs: Date.now(), signal: controller.signal });
    })();
    void running
      .then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error: describeError(error) }),
      )
      .then((outcome) => {
        clearTimeout(holdTimer);
        this.#running.delete(controller);
        const heard = held.hold?.release() ?? null;
        if (this.#stopped) return;
        this.#log.info("tool used", {
          toolName: tool.spec.name,
          ok: outcome.ok,
          tookMs: Math.round(performance.now() - startedMs),
          held: heard !== null,
          ...(outcome.ok ? {} : { error: outcome.error }),
        });
        const body = outcome.ok ? { ...outcome.result } : { error: outcome.error };
        this.#o.host.sendToolResult(
          toolUseId,
          JSON.stringify(heard === null ? body : { ...body, callerHeardWhileWaiting: heard }),
        );
      });
  }
}
