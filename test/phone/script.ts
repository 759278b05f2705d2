/**
 * Call scripts made of the committed speech fixtures (espeak-ng, 8 kHz μ-law).
 */
import { loadAudioFixtures, type SpeechFixture } from "../fixtures/fixtures.ts";
import type { CallStep, Utterance } from "./phone-call.ts";

export function utteranceOf(fixture: SpeechFixture): Utterance {
  return {
    label: fixture.name,
    text: fixture.text,
    mulaw: fixture.mulaw,
    speechOnsetMs: fixture.onsetMs,
    speechEndMs: fixture.onsetMs + fixture.speechMs,
  };
}

export class SpeechLibrary {
  readonly #byName: Map<string, SpeechFixture>;

  constructor() {
    this.#byName = new Map(
      loadAudioFixtures()
        .filter(
          (fixture): fixture is SpeechFixture => fixture.kind === "speech" || fixture.kind === "backchannel",
        )
        .map((fixture) => [fixture.name, fixture]),
    );
  }

  utterance(name: string): Utterance {
    const fixture = this.#byName.get(name);
    if (!fixture)
      throw new Error(`no speech fixture "${name}" (have: ${[...this.#byName.keys()].join(", ")})`);
    return utteranceOf(fixture);
  }

  get names(): string[] {
    return [...this.#byName.keys()];
  }
}

/**
 * The default conversation: hear the greeting, ask two questions, talk over the third reply, press a key,
 * and listen to the end.
 */
export function defaultScript(
  library: SpeechLibrary,
  options: { bargeIn: boolean } = { bargeIn: true },
): CallStep[] {
  const steps: CallStep[] = [
    { kind: "waitForReply" },
    { kind: "say", utterance: library.utterance("order-status") },
    { kind: "waitForReply" },
    { kind: "say", utterance: library.utterance("opening-hours") },
  ];
  if (options.bargeIn) {
    steps.push({ kind: "bargeIn", utterance: library.utterance("not-right"), afterHeardMs: 800 });
  }
  steps.push({ kind: "waitForReply" }, { kind: "dtmf", digit: "5" }, { kind: "waitForReply" });
  return steps;
}
