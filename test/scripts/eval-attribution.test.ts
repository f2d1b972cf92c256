import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  computeMetrics,
  type InjectedTruth,
  type MatchedIncident,
  matchReported,
  type ScenarioResult,
} from "../../scripts/eval/attribution-metrics.ts";
import {
  computeSplits,
  DEFAULT_BANK,
  loadTextBank,
  sameWording,
  TEXT_KINDS,
  TextPicker,
} from "../../scripts/eval/attribution-texts.ts";
import { buildScenario, FAMILIES, SCHEDULE, toIncidentSpec } from "../../scripts/eval/scenario-catalogue.ts";
import { DEFAULT_SCENARIOS, evaluate, formatSummary, parseArgs } from "../../scripts/eval-attribution.ts";
import {
  builtInRejectionTexts,
  fillTemplate,
  generateHistory,
  renderTemplateExample,
} from "../../shared/simulation/b2b-history.ts";

const recipientTruth = {
  side: "recipient",
  verdict: "recipient_filter",
  acceptable: ["recipient_filter"],
} as const;
const senderTruth = {
  side: "sender",
  verdict: "sender_reputation",
  acceptable: ["sender_reputation"],
} as const;

const injected = (over: Partial<InjectedTruth> = {}): InjectedTruth => ({
  kind: "gateway_policy_change",
  truth: recipientTruth,
  start: "2026-10-05T10:00:00.000Z",
  end: "2026-10-06T00:00:00.000Z",
  byOrg: { "acme.com": 40, "beta.de": 10 },
  sendingIps: [],
  ...over,
});

const reported = (over: Partial<MatchedIncident> = {}): MatchedIncident => ({
  verdict: "recipient_filter",
  side: "recipient",
  confidence: 0.9,
  alert: true,
  firstSeen: "2026-10-05T10:30:00.000Z",
  domains: ["acme.com", "beta.de"],
  sendingIps: [],
  gateways: ["mimecast"],
  hardBounces: 50,
  match: 0,
  share: 1,
  ...over,
});

const scenario = (id: string, inj: InjectedTruth[], rep: MatchedIncident[], family = id): ScenarioResult => ({
  id,
  family,
  seed: 1,
  injected: inj,
  reported: rep,
  windowHardBounces: 0,
  windowAttempts: 0,
  events: 0,
  seconds: 0,
});

describe("matching reported incidents to injected ones", () => {
  it("matches on the injected share of the organisations' hard bounces, the largest incident winning", () => {
    const a = injected();
    const b = injected({
      truth: senderTruth,
      byOrg: { "acme.com": 5, "gamma.io": 300 },
      sendingIps: ["192.0.2.1"],
    });
    expect(matchReported(reported(), [a, b], { "acme.com": 3 })).toEqual({ match: 0, share: 50 / 58 });
    expect(matchReported(reported({ domains: ["gamma.io", "acme.com"] }), [a, b], {}).match).toBe(1);
  });

  it("gives a cluster about two incidents to the one whose truth accepts its verdict", () => {
    const recipientSide = injected({ byOrg: { "acme.com": 60 } });
    const senderSide = injected({
      truth: senderTruth,
      byOrg: { "acme.com": 40, "gamma.io": 10 },
      sendingIps: ["192.0.2.1"],
    });
    const both = reported({ domains: ["acme.com", "gamma.io"] });
    expect(matchReported(both, [recipientSide, senderSide], {}).match).toBe(0);
    expect(
      matchReported(
        { ...both, verdict: "sender_reputation", side: "sender" },
        [recipientSide, senderSide],
        {},
      ),
    ).toEqual({
      match: 1,
      share: 50 / 110,
    });
    // Neither accepts it: the larger one, so the wrong side is counted against it.
    expect(
      matchReported({ ...both, verdict: "esp_fault", side: "sender" }, [recipientSide, senderSide], {}).match,
    ).toBe(0);
  });

  it("calls a cluster made mostly of background bounces background, unless its IPs or campaign match", () => {
    const a = injected({ byOrg: { "acme.com": 2 }, sendingIps: ["192.0.2.1"], campaign: "promo-1" });
    const mostlyDecay = reported({ domains: ["acme.com", "delta.fr"] });
    expect(matchReported(mostlyDecay, [a], { "delta.fr": 20 }).match).toBeNull();
    expect(matchReported({ ...mostlyDecay, sendingIps: ["192.0.2.1"] }, [a], { "delta.fr": 20 }).match).toBe(
      0,
    );
    expect(matchReported({ ...mostlyDecay, campaigns: ["promo-1"] }, [a], { "delta.fr": 20 }).match).toBe(0);
    expect(matchReported({ ...mostlyDecay, blamedIps: ["192.0.2.1"] }, [a], { "delta.fr": 20 }).match).toBe(
      0,
    );
  });

  it("needs the cluster to start between a day before the onset and the incident's end", () => {
    const a = injected();
    expect(matchReported(reported({ firstSeen: "2026-10-04T11:00:00.000Z" }), [a], {}).match).toBe(0);
    expect(matchReported(reported({ firstSeen: "2026-10-04T09:00:00.000Z" }), [a], {}).match).toBeNull();
    expect(matchReported(reported({ firstSeen: "2026-10-06T00:00:01.000Z" }), [a], {}).match).toBeNull();
  });
});

describe("the evaluation's figures", () => {
  // s1: the recipient incident is found, and a second alert on it blames the sender (wrong side).
  // s2: a sender incident nobody alerts on (missed); a non-alerting list_decay on it.
  // s3: a recipient incident alerted only with a sender-side verdict (wrong verdict, wrong side).
  // s4: a quiet day with one false alert and one right list_decay; s5: a quiet day without alerts.
  const s1 = scenario(
    "s1",
    [injected()],
    [
      reported({ confidence: 0.9 }),
      reported({ verdict: "sender_reputation", side: "sender", confidence: 0.7 }),
    ],
  );
  const s2 = scenario(
    "s2",
    [injected({ kind: "ip_blocklisted", truth: senderTruth, sendingIps: ["192.0.2.1"] })],
    [reported({ verdict: "list_decay", side: "neutral", alert: false, confidence: 0.3 })],
  );
  const s3 = scenario(
    "s3",
    [injected({ byOrg: { "acme.com": 10 } })],
    [reported({ verdict: "content_block", side: "sender", confidence: 0.65, domains: ["acme.com"] })],
  );
  const s4 = scenario(
    "s4",
    [],
    [
      reported({ match: null, share: 0, confidence: 0.62 }),
      reported({
        match: null,
        share: 0,
        verdict: "list_decay",
        side: "neutral",
        alert: false,
        confidence: 0.2,
      }),
    ],
    "quiet",
  );
  const s5 = scenario("s5", [], [], "quiet");
  const m = computeMetrics([s1, s2, s3, s4, s5]);

  it("counts found, wrong-verdict and missed incidents and fills the confusion matrix", () => {
    expect([m.injectedIncidents, m.found, m.wrongVerdict, m.missed]).toEqual([3, 1, 1, 1]);
    expect(m.confusion).toEqual({
      recipient_filter: { recipient_filter: 1, content_block: 1 },
      sender_reputation: { missed: 1 },
      background: { recipient_filter: 1 },
    });
  });

  it("counts wrong-side alerts per alerting incident and per scenario", () => {
    expect([m.alertingIncidents, m.alertingMatched, m.alertingRightSide]).toEqual([4, 3, 1]);
    expect(m.scenariosWithWrongSideAlert).toBe(2);
    expect(m.incidentScenarios).toBe(3);
    expect(m.alertsOnBackground).toBe(1);
  });

  it("counts false alerts on quiet days", () => {
    expect([m.quietScenarios, m.quietAlerts, m.quietDaysWithAlert]).toEqual([2, 1, 1]);
  });

  it("scores targets with PASS and MISS", () => {
    const byName = Object.fromEntries(m.targets.map((t) => [t.name, t]));
    expect(byName["side right on alerting incidents"]).toMatchObject({ value: 1 / 3, pass: false });
    expect(byName["scenarios with a wrong-side alert"]).toMatchObject({ value: 2 / 3, pass: false });
    expect(byName["injected incidents found with an acceptable verdict"]).toMatchObject({
      value: 1 / 3,
      pass: false,
    });
    expect(byName["quiet days with a false alert"]).toMatchObject({ value: 1 / 2, pass: false });
    const clean = computeMetrics([scenario("ok", [injected()], [reported()]), s5]);
    expect(clean.targets.map((t) => t.pass)).toEqual([true, true, true, true]);
  });

  it("computes scope precision and recall on found incidents", () => {
    const partial = computeMetrics([
      scenario(
        "p",
        [injected({ byOrg: { a: 1, b: 1, c: 1, d: 1 }, sendingIps: ["ip1", "ip2"] })],
        [reported({ domains: ["a", "b", "x"], sendingIps: ["ip1"] })],
      ),
    ]);
    expect(partial.scope.organisations).toEqual({ precision: 2 / 3, recall: 2 / 4, n: 1 });
    expect(partial.scope.sendingIps).toEqual({ precision: 1, recall: 1 / 2, n: 1 });
  });

  it("scores confidence as P(verdict right) with the Brier score and a reliability table", () => {
    // Reported incidents and whether each is right: 0.9 ✓, 0.7 ✗ (wrong side), 0.3 ✗ (list_decay on an incident),
    // 0.65 ✗ (wrong verdict), 0.62 ✗ (alert on background), 0.2 ✓ (list_decay on background).
    const pairs = [
      [0.9, 1],
      [0.7, 0],
      [0.3, 0],
      [0.65, 0],
      [0.62, 0],
      [0.2, 1],
    ] as const;
    const brier = pairs.reduce((a, [c, y]) => a + (c - y) ** 2, 0) / pairs.length;
    expect(m.calibration.incidents).toBe(6);
    expect(m.calibration.brier).toBeCloseTo(brier, 12);
    expect(m.calibration.brierBaseRate).toBeCloseTo((2 * (2 / 3) ** 2 + 4 * (1 / 3) ** 2) / 6, 12);
    const bin = (label: string) => m.calibration.reliability.find((b) => b.bin === label);
    expect(bin("0.6–0.7")).toMatchObject({ n: 2, shareRight: 0 });
    expect(bin("0.9–1.0")).toMatchObject({ n: 1, shareRight: 1 });
    expect(bin("0.7–0.8")).toMatchObject({ n: 1, shareRight: 0 });
  });

  it("leaves incidents with no bounce in the analysis window and failed scenarios out of the figures", () => {
    const x = computeMetrics([
      scenario("u", [injected({ byOrg: {} })], []),
      { ...scenario("f", [injected()], []), error: "boom" },
    ]);
    expect([x.injectedIncidents, x.unobservable, x.missed, x.failedScenarios]).toEqual([0, 1, 0, 1]);
  });

  it("prints every target and the confusion matrix", () => {
    const text = formatSummary(m, { seed: 7, seconds: 60, jobs: 2 });
    expect(text).toContain("side right on alerting incidents");
    expect(text).toMatch(/quiet days with a false alert\s+≤ 1%\s+50\.0%\s+MISS/);
    expect(text).toContain("background (no incident)");
    expect(text).toContain("Brier");
  });
});

describe("the text bank", () => {
  const bank = loadTextBank();

  it("has texts that fill, each with a public source or an existing eval record", () => {
    const records = new Set(
      ["eval/dev/bounces-dev.ndjson", "eval/heldout/bounces-sisimai-heldout.ndjson"].flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .filter((l) => l.trim())
          .map((l) => `${f}#${(JSON.parse(l) as { id: string }).id}`),
      ),
    );
    for (const t of bank) {
      expect(() => fillTemplate(t.text), t.id).not.toThrow();
      if (!t.source.startsWith("https://")) expect(records.has(t.source), `${t.id}: ${t.source}`).toBe(true);
      expect(t.source).not.toMatch(
        /shared\/reference|work\/shared|gateways\.md|esp-apis\.md|sisimai-reasons\.md/,
      );
    }
  });

  it("stores the split its fixed rule gives, and scores with none of the simulation's wording", () => {
    const simulation = builtInRejectionTexts();
    const rule = computeSplits(bank, simulation, renderTemplateExample);
    expect(bank.map((t) => [t.id, t.split, t.inSimulation ?? false])).toEqual(
      bank.map((t) => [t.id, rule.get(t.id)?.split, rule.get(t.id)?.inSimulation ?? false]),
    );
    const leaks = bank.filter(
      (t) => t.split === "score" && simulation.some((s) => sameWording(s, renderTemplateExample(t.text))),
    );
    expect(leaks).toEqual([]);
    const score = bank.filter((t) => t.split === "score").length;
    expect(score).toBeGreaterThan(60);
    expect(score).toBeLessThan(bank.length);
  });

  it("gives every text kind the catalogue asks for, on every platform, from the scoring half", () => {
    const picker = new TextPicker(bank, "score");
    const gateways = [
      "microsoft365",
      "google_workspace",
      "proofpoint",
      "mimecast",
      "cisco",
      "yahoo",
      "gmail",
      "self_hosted",
      "unrecognised",
    ];
    for (const kind of TEXT_KINDS) {
      // Directory blocks are injected at Microsoft 365 tenants only.
      for (const g of kind === "directory_block" ? ["microsoft365"] : gateways) {
        expect(picker.texts(kind, g).length, `${kind}@${g}`).toBeGreaterThan(0);
      }
    }
  });
});

describe("the scenario catalogue", () => {
  it("cycles through every family; a default run covers each at least nine times, quiet days about a hundred", () => {
    expect(new Set(SCHEDULE)).toEqual(new Set(FAMILIES.map((f) => f.name)));
    const count = (name: string) =>
      Array.from({ length: DEFAULT_SCENARIOS }, (_, i) => SCHEDULE[i % SCHEDULE.length]).filter(
        (f) => f === name,
      ).length;
    for (const f of FAMILIES) expect(count(f.name), f.name).toBeGreaterThanOrEqual(9);
    const quiet = FAMILIES.filter((f) => f.name.startsWith("quiet")).reduce((a, f) => a + count(f.name), 0);
    expect(quiet).toBeGreaterThanOrEqual(90);
    expect(DEFAULT_SCENARIOS).toBeGreaterThanOrEqual(300);
  });

  it("builds the same scenario from the same seed and index, other ones from others", () => {
    expect(JSON.stringify(buildScenario(5, 17))).toBe(JSON.stringify(buildScenario(5, 17)));
    expect(buildScenario(5, 17).seed).not.toBe(buildScenario(6, 17).seed);
    expect(buildScenario(5, 17).seed).not.toBe(buildScenario(5, 18).seed);
    for (let i = 0; i < SCHEDULE.length; i++) {
      const s = buildScenario(5, i);
      for (const inc of s.incidents) {
        expect(inc.truth.acceptable).toContain(inc.truth.verdict);
        // Onsets fall inside the analysed day, or (gradual onset) days before it.
        expect(Date.parse(inc.at)).toBeLessThan(Date.parse(s.at));
      }
    }
  });

  it("injects the bank's scoring texts into the simulated incidents", () => {
    const picker = new TextPicker(loadTextBank(), "score");
    const s = buildScenario(5, SCHEDULE.indexOf("dmarc_all_providers"));
    const h = generateHistory({
      ...s.world,
      seed: s.seed,
      start: new Date(s.world.start),
      incidents: s.incidents.map((i) => toIncidentSpec(i, (k, g) => picker.texts(k, g))),
    });
    const byId = new Map(h.events.map((e) => [e.id, e]));
    const texts = (h.incidents[0]?.eventIds ?? []).map((id) => byId.get(id)?.smtp?.text ?? "");
    expect(texts.length).toBeGreaterThan(20);
    const scoring = loadTextBank().filter((t) => t.split === "score" && t.kind === "auth");
    for (const text of texts) {
      expect(
        scoring.some((t) => sameWording(renderTemplateExample(t.text), text)),
        text,
      ).toBe(true);
    }
  });
});

describe("npm run eval:attribution", () => {
  it("parses its options", () => {
    expect(parseArgs(["--seed", "9", "--scenarios", "20", "--jobs", "1", "--out", "-"])).toMatchObject({
      seed: 9,
      scenarios: 20,
      jobs: 1,
      out: null,
    });
    expect(parseArgs(["--scenarios", "0"])).toMatch(/--scenarios wants an integer/);
    expect(parseArgs(["--family", "nope"])).toMatch(/unknown family/);
    expect(parseArgs(["--help"])).toMatch(/^usage:/);
  });

  it("runs scenarios through the real pipeline on worker processes and writes its results", async () => {
    const out = join(await mkdtemp(join(tmpdir(), "br-eval-test-")), "results.json");
    // quiet_low_volume weighs 2 in the schedule: five scenarios cover the four families.
    const families = new Set([
      "quiet_low_volume",
      "ip_blocklisted",
      "user_unknown@proofpoint",
      "esp_pool_fault",
    ]);
    const { metrics } = await evaluate({
      seed: 3,
      scenarios: 5,
      jobs: 2,
      families,
      out,
      textBank: DEFAULT_BANK,
    });
    expect(metrics.failedScenarios).toBe(0);
    expect(metrics.scenarios).toBe(5);
    expect(metrics.quietScenarios).toBe(2);
    expect(metrics.injectedIncidents).toBe(3);
    expect(metrics.calibration.incidents).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(true);
    const json = JSON.parse(await readFile(out, "utf8")) as {
      seed: number;
      rows: Array<{ family: string; injected: unknown[]; reported: unknown[] }>;
      targets: unknown[];
    };
    expect(json.seed).toBe(3);
    expect(json.targets).toHaveLength(4);
    expect(new Set(json.rows.map((r) => r.family))).toEqual(families);
  }, 180_000);
});
