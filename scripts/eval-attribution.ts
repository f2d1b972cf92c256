/**
 * The attribution evaluation: a randomized, labelled suite of simulated scenarios (scripts/eval/scenario-catalogue.ts)
 * run through the real pipeline, each scored against what was injected. Rejection texts come from the scoring half of
 * the text bank (eval/attribution-texts/), not from the texts rules were developed against.
 *
 *   npm run eval:attribution [-- --seed N] [--scenarios N] [--jobs N] [--family NAME]... [--out FILE]
 *
 * Prints a confusion matrix (truth × verdict), side accuracy, wrong-side alerts, missed incidents, false alerts on
 * quiet days, scope precision/recall (organisations, IPs) and calibration (Brier score, reliability table), each target
 * with PASS or MISS, and writes eval/attribution-results.json. Exits 0 whether targets are met or not (1 on a failure
 * of the instrument itself, 2 on bad usage): it measures, it does not gate.
 */
import { type ChildProcess, fork, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { VerdictSchema } from "../shared/domain/report/report-schema.ts";
import { computeMetrics, type Metrics, type ScenarioResult } from "./eval/attribution-metrics.ts";
import { DEFAULT_BANK, loadTextBank } from "./eval/attribution-texts.ts";
import { buildScenario, FAMILIES, SCHEDULE, type Scenario } from "./eval/scenario-catalogue.ts";

export const DEFAULT_SEED = 1515;
export const DEFAULT_SCENARIOS = 330;

export interface EvalOptions {
  readonly seed: number;
  readonly scenarios: number;
  readonly jobs: number;
  readonly families?: ReadonlySet<string>;
  readonly out: string | null;
  readonly textBank: string;
  /** Which half of the text bank the scenarios draw from: score (default) or dev (fitting). */
  readonly texts?: "dev" | "score";
  readonly progress?: (line: string, done: boolean) => void;
}

const USAGE = `usage: npm run eval:attribution -- [--seed N] [--scenarios N] [--jobs N] [--family NAME]... [--out FILE|-]
  --seed N        base seed of the randomized scenarios (default ${DEFAULT_SEED}; same seed, same scenarios)
  --scenarios N   how many scenarios (default ${DEFAULT_SCENARIOS}; a full cycle of families is ${SCHEDULE.length})
  --jobs N        worker processes (default: min(2, CPUs))
  --texts dev|score  which half of the text bank (default score; dev is what fit:confidence uses)
  --family NAME   only this scenario family (repeatable); families: ${FAMILIES.map((f) => f.name).join(", ")}
  --out FILE      where to write the results (default eval/attribution-results.json; - for none)`;

export function parseArgs(argv: readonly string[]): EvalOptions | string {
  let seed = DEFAULT_SEED;
  let scenarios = DEFAULT_SCENARIOS;
  let jobs = Math.max(1, Math.min(2, availableParallelism()));
  let texts: "dev" | "score" = "score";
  let out: string | null = resolve("eval/attribution-results.json");
  const families = new Set<string>();
  const int = (v: string | undefined, name: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${name} wants an integer ≥ ${min}, got ${v ?? "nothing"}`);
    return n;
  };
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const v = argv[i + 1];
      if (a === "--help" || a === "-h") return USAGE;
      if (a === "--seed") seed = int(v, a, 0);
      else if (a === "--scenarios") scenarios = int(v, a, 1);
      else if (a === "--jobs") jobs = int(v, a, 1);
      else if (a === "--texts") {
        if (v !== "dev" && v !== "score") throw new Error("--texts wants dev or score");
        texts = v;
      } else if (a === "--out") out = v === "-" ? null : resolve(v ?? "");
      else if (a === "--family") {
        if (!FAMILIES.some((f) => f.name === v)) throw new Error(`unknown family ${v ?? "(none)"}`);
        families.add(v as string);
      } else throw new Error(`unknown argument ${a}`);
      i++;
    }
  } catch (e) {
    return `${e instanceof Error ? e.message : String(e)}\n${USAGE}`;
  }
  return {
    seed,
    scenarios,
    jobs,
    out,
    texts,
    textBank: DEFAULT_BANK,
    ...(families.size > 0 ? { families } : {}),
  };
}

/** Runs scenarios on `jobs` worker processes; results in scenario order. */
async function runAll(scenarios: readonly Scenario[], o: EvalOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(scenarios.length);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const report = (final: boolean) => {
    const elapsed = (performance.now() - t0) / 1000;
    const eta = done > 0 ? (elapsed / done) * (scenarios.length - done) : Number.NaN;
    const failed = results.filter((r) => r?.error).length;
    o.progress?.(
      `[${String(done).padStart(String(scenarios.length).length)}/${scenarios.length}] ${elapsed.toFixed(0)} s elapsed${
        final || Number.isNaN(eta) ? "" : `, about ${eta.toFixed(0)} s to go`
      }${failed > 0 ? `, ${failed} failed` : ""}`,
      final,
    );
  };
  const worker = (): Promise<void> =>
    new Promise((resolveWorker, reject) => {
      const child: ChildProcess = fork(
        resolve("bin/run-ts.js"),
        ["scripts/eval/scenario-worker.ts", o.textBank, o.texts ?? "score"],
        {
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        },
      );
      let current = -1;
      const give = () => {
        if (next >= scenarios.length) {
          child.disconnect();
          return;
        }
        current = next++;
        child.send(scenarios[current] as Scenario);
      };
      child.on("message", (m: ScenarioResult | { ready: true }) => {
        if ("ready" in m) return give();
        results[current] = m;
        done++;
        report(false);
        give();
      });
      child.on("exit", (code) => {
        if (current >= 0 && results[current] === undefined)
          reject(new Error(`worker exited (code ${code}) during scenario ${scenarios[current]?.id}`));
        else resolveWorker();
      });
      child.on("error", reject);
    });
  await Promise.all(Array.from({ length: Math.min(o.jobs, scenarios.length) }, worker));
  report(true);
  return results;
}

const pct = (x: number | null, digits = 1): string => (x === null ? "n/a" : `${(100 * x).toFixed(digits)}%`);
const num = (x: number | null, digits = 3): string => (x === null ? "n/a" : x.toFixed(digits));
const VERDICT_COLUMNS = [...VerdictSchema.options, "missed"];
const SHORT: Record<string, string> = {
  recipient_filter: "recip_filter",
  sender_reputation: "reputation",
  sender_authentication: "auth",
  content_block: "content",
  esp_fault: "esp_fault",
  list_decay: "list_decay",
  unknown: "unknown",
  missed: "missed",
};

/** The printed summary. */
export function formatSummary(m: Metrics, meta: { seed: number; seconds: number; jobs: number }): string {
  const lines: string[] = [];
  const row = (cells: readonly string[], widths: readonly number[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" ");
  lines.push(
    `Attribution evaluation: ${m.scenarios} scenarios (seed ${meta.seed}) in ${(meta.seconds / 60).toFixed(1)} min on ${meta.jobs} worker(s)`,
    `  ${m.incidentScenarios} with injected incidents (${m.injectedIncidents} incidents scored${m.unobservable > 0 ? `, ${m.unobservable} with no bounce in the analysis window left out` : ""}), ${m.quietScenarios} quiet days${m.failedScenarios > 0 ? `, ${m.failedScenarios} FAILED to run` : ""}`,
    "",
    "Targets",
  );
  for (const t of m.targets) {
    lines.push(
      `  ${t.name.padEnd(54)} ${t.want.padEnd(6)} ${t.display.padStart(7)}  ${t.pass === null ? "n/a" : t.pass ? "PASS" : "MISS"}`,
    );
  }
  lines.push(
    "",
    "Confusion: truth (rows) × reported verdict of the matching alert (columns; missed = no alert)",
  );
  const widths = [24, ...VERDICT_COLUMNS.map((c) => Math.max(6, (SHORT[c] ?? c).length))];
  lines.push(row(["", ...VERDICT_COLUMNS.map((c) => SHORT[c] ?? c)], widths));
  const rowsOrder = [...VERDICT_COLUMNS.filter((v) => m.confusion[v]), "background"];
  for (const truth of rowsOrder) {
    const line = m.confusion[truth];
    if (!line) continue;
    const label = truth === "background" ? "background (no incident)" : truth;
    lines.push(row([label, ...VERDICT_COLUMNS.map((c) => (line[c] ? String(line[c]) : "·"))], widths));
  }
  lines.push(
    "",
    `Side accuracy: ${m.alertingRightSide} of ${m.alertingMatched} alerting incidents that match an injected one blame the right side (${pct(m.alertingMatched > 0 ? m.alertingRightSide / m.alertingMatched : null)})`,
    `Wrong-side alerts: in ${m.scenariosWithWrongSideAlert} of ${m.incidentScenarios} scenarios with incidents (${pct(m.incidentScenarios > 0 ? m.scenariosWithWrongSideAlert / m.incidentScenarios : null)})`,
    `Injected incidents: ${m.found} found with an acceptable verdict, ${m.wrongVerdict} alerted with a wrong verdict, ${m.missed} missed (of ${m.injectedIncidents})`,
    `Alerts on background bounces (no injected incident), incident scenarios included: ${m.alertsOnBackground}`,
    `False alerts on quiet days: ${m.quietAlerts} alert(s) on ${m.quietDaysWithAlert} of ${m.quietScenarios} quiet days (${num(m.quietScenarios > 0 ? m.quietAlerts / m.quietScenarios : null, 3)} per quiet day)`,
    `Scope of found incidents: organisations precision ${pct(m.scope.organisations.precision)} recall ${pct(m.scope.organisations.recall)} (n=${m.scope.organisations.n}); sending IPs precision ${pct(m.scope.sendingIps.precision)} recall ${pct(m.scope.sendingIps.recall)} (n=${m.scope.sendingIps.n})`,
    "",
    `Calibration of confidence as P(verdict right), all ${m.calibration.incidents} reported incidents: Brier ${num(m.calibration.brier)} (always answering the base rate: ${num(m.calibration.brierBaseRate)})`,
    "  confidence     n  mean conf  share right",
  );
  for (const b of m.calibration.reliability) {
    if (b.n === 0) continue;
    lines.push(
      `  ${b.bin.padEnd(10)} ${String(b.n).padStart(5)}  ${num(b.meanConfidence, 2).padStart(9)}  ${pct(b.shareRight).padStart(11)}`,
    );
  }
  lines.push(
    "",
    "Per family (incidents scored; found / wrong verdict / missed; scenarios with a wrong-side alert; alerts on background)",
  );
  const fw = [34, 5, 5, 6, 6, 7, 11, 10];
  lines.push(row(["family", "scen", "inj", "found", "wrong", "missed", "wrong-side", "bg-alerts"], fw));
  for (const f of m.byFamily) {
    lines.push(
      row(
        [
          f.family,
          String(f.scenarios),
          String(f.injected),
          String(f.found),
          String(f.wrongVerdict),
          String(f.missed),
          String(f.wrongSideScenarios),
          String(f.alertsOnBackground),
        ],
        fw,
      ),
    );
  }
  return lines.join("\n");
}

/** What eval/attribution-results.json holds for one scenario: enough to see what went wrong, not the whole report. */
function compactRow(r: ScenarioResult, m: Metrics) {
  return {
    id: r.id,
    family: r.family,
    seed: r.seed,
    events: r.events,
    seconds: Math.round(r.seconds * 10) / 10,
    windowHardBounces: r.windowHardBounces,
    windowAttempts: r.windowAttempts,
    ...(r.error ? { error: r.error } : {}),
    injected: r.injected.map((inj, k) => {
      const outcome = m.outcomes.filter((o) => o.scenario === r.id)[k];
      return {
        kind: inj.kind,
        truth: inj.truth.verdict,
        side: inj.truth.side,
        ...(inj.gateway ? { gateway: inj.gateway } : {}),
        ...(inj.sendingIps.length > 0 ? { sendingIps: inj.sendingIps } : {}),
        ...(inj.campaign ? { campaign: inj.campaign } : {}),
        start: inj.start,
        windowBounces: Object.values(inj.byOrg).reduce((a, b) => a + b, 0),
        windowOrganisations: Object.keys(inj.byOrg).length,
        outcome: outcome?.outcome ?? null,
        reported: outcome?.reportedVerdict ?? null,
      };
    }),
    reported: r.reported.map((x) => ({
      verdict: x.verdict,
      side: x.side,
      confidence: x.confidence,
      alert: x.alert,
      gateways: x.gateways,
      sendingIps: x.sendingIps,
      organisations: x.domains.length,
      ...(x.domains.length <= 5 ? { domains: x.domains } : {}),
      hardBounces: x.hardBounces,
      ...(x.attribution ? { attribution: x.attribution } : {}),
      match: x.match,
      share: Math.round(x.share * 1000) / 1000,
    })),
  };
}

/** Results inside the repository are formatted as `npm run lint` wants them (biome); elsewhere left as written. */
function formatLikeTheRepository(file: string): void {
  const biome = resolve("node_modules/.bin/biome");
  if (!file.startsWith(`${process.cwd()}/`) || !existsSync(biome)) return;
  spawnSync(biome, ["format", "--write", file], { stdio: "ignore" });
}

export async function evaluate(
  o: EvalOptions,
): Promise<{ metrics: Metrics; results: ScenarioResult[]; json: unknown }> {
  const bank = loadTextBank(o.textBank);
  const scenarios = Array.from({ length: o.scenarios }, (_, i) => buildScenario(o.seed, i, o.families));
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const results = await runAll(scenarios, o);
  const seconds = (performance.now() - t0) / 1000;
  const metrics = computeMetrics(results);
  const { outcomes: _outcomes, ...figures } = metrics;
  const json = {
    tool: "bounce-radar eval:attribution",
    seed: o.seed,
    scenarios: o.scenarios,
    families: o.families ? [...o.families] : FAMILIES.map((f) => f.name),
    jobs: o.jobs,
    startedAt,
    seconds: Math.round(seconds),
    textBank: {
      file: "eval/attribution-texts/texts.ndjson",
      texts: bank.length,
      scoredWith: bank.filter((t) => t.split === "score").length,
    },
    targets: metrics.targets,
    metrics: figures,
    rows: results.map((r) => compactRow(r, metrics)),
  };
  if (o.out) {
    writeFileSync(o.out, `${JSON.stringify(json, null, 2)}\n`);
    formatLikeTheRepository(o.out);
  }
  return { metrics, results, json };
}

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === "string") {
    const help = parsed.startsWith("usage:");
    (help ? process.stdout : process.stderr).write(`${parsed}\n`);
    process.exit(help ? 0 : 2);
  }
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const progress = (line: string, final: boolean) => {
    if (tty) process.stderr.write(`\r${line}${final ? "\n" : ""}`);
    else if (final || performance.now() - lastLine > 15_000) {
      process.stderr.write(`${line}\n`);
      lastLine = performance.now();
    }
  };
  process.stderr.write(
    `eval:attribution: ${parsed.scenarios} scenarios from seed ${parsed.seed} on ${parsed.jobs} worker(s)\n`,
  );
  const t0 = performance.now();
  const { metrics } = await evaluate({ ...parsed, progress });
  console.log(
    formatSummary(metrics, {
      seed: parsed.seed,
      seconds: (performance.now() - t0) / 1000,
      jobs: parsed.jobs,
    }),
  );
  if (parsed.out) console.log(`\nResults: ${parsed.out}`);
  if (metrics.failedScenarios > 0) process.exit(1);
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? "")).href) {
  main().catch((e: unknown) => {
    process.stderr.write(
      `eval:attribution failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  });
}
