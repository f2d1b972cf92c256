/**
 * A child process of scripts/eval-attribution.ts: receives scenarios over IPC, runs each through the real pipeline
 * (run-scenario.ts) and sends back its scored result. Started with `fork(bin/run-ts.js, [this file, textBank])`.
 */
import { tmpdir } from "node:os";
import type { ScenarioResult } from "./attribution-metrics.ts";
import { DEFAULT_BANK, loadTextBank, TextPicker } from "./attribution-texts.ts";
import { runScenario } from "./run-scenario.ts";
import type { Scenario } from "./scenario-catalogue.ts";

// The scoring half by default; the fit of the confidence model (scripts/fit-confidence.ts) asks for the dev half.
const split = process.argv[3] === "dev" ? "dev" : "score";
const picker = new TextPicker(loadTextBank(process.argv[2] ?? DEFAULT_BANK), split);
const send = (message: unknown): void => {
  process.send?.(message);
};

process.on("message", (scenario: Scenario) => {
  runScenario(scenario, picker, tmpdir())
    .then(send)
    .catch((e: unknown) => {
      const failed: ScenarioResult = {
        id: scenario.id,
        family: scenario.family,
        seed: scenario.seed,
        injected: [],
        reported: [],
        windowHardBounces: 0,
        windowAttempts: 0,
        events: 0,
        seconds: 0,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      };
      send(failed);
    });
});
process.on("disconnect", () => process.exit(0));
send({ ready: true });
