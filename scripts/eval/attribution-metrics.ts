/**
 * Scoring the attribution against the truth of simulated scenarios: which reported incident belongs to which
 * injected one, and the figures the evaluation reports. Pure functions, no I/O, so they can be tested on hand-made
 * results.
 *
 * Matching. A reported incident is about an injected incident when its first bounce falls between a day before the
 * injected onset and the injected incident's end (a cluster may start with an earlier stray bounce of the same kind)
 * and either (a) the injected incident made at least a quarter of all hard bounces in the analysis window at the
 * reported organisations, or (b) its sending IPs (named, or through the pool or ESP source it blames) or campaigns
 * overlap the injected incident's. When a cluster is about two injected incidents (one per side on the same day), it
 * belongs to the one whose truth accepts its verdict, else to the one that made more of its bounces; the other one is
 * then missed unless another alert finds it. Anything else is
 * background: genuine list decay and the simulation's trickle of stray blocks, for which `list_decay` is the right
 * verdict and no alert is the right outcome.
 */
import type { Verdict } from "../../shared/domain/report/report-schema.ts";
import type { Truth } from "./scenario-catalogue.ts";

/** How long before an injected onset a matching cluster's first bounce may be. */
const ONSET_SLACK = 24 * 3_600_000;
/** The least share of a cluster's hard bounces an injected incident must have made for the cluster to be about it. */
const MIN_SHARE = 0.25;

/** One injected incident as the scoring sees it: its truth and its bounces inside the analysis window. */
export interface InjectedTruth {
  readonly kind: string;
  readonly truth: Truth;
  /** ISO instants of the injected incident's window. */
  readonly start: string;
  readonly end: string;
  /** Injected hard bounces per organisation inside the analysis window. */
  readonly byOrg: Readonly<Record<string, number>>;
  readonly sendingIps: readonly string[];
  readonly campaign?: string;
  /** The platform it concerns, when it concerns one (the simulation's name for it). */
  readonly gateway?: string;
}

/** What scoring keeps of a reported incident. */
export interface ReportedIncident {
  readonly verdict: Verdict;
  readonly side: string;
  readonly confidence: number;
  readonly alert: boolean;
  readonly firstSeen: string;
  readonly domains: readonly string[];
  readonly sendingIps: readonly string[];
  readonly gateways: readonly string[];
  readonly campaigns?: readonly string[];
  /** How the analysis says it found it (basis, dimension and elements), when it says. */
  readonly attribution?: string;
  /** Sending IPs the analysis blamed through another dimension (a pool, an ESP source); used for matching only. */
  readonly blamedIps?: readonly string[];
  readonly hardBounces: number;
  /** The features the confidence model weighed (the report's attribution.features), for fitting it. */
  readonly features?: Readonly<Record<string, number>>;
}

export interface MatchedIncident extends ReportedIncident {
  /** Index of the injected incident it belongs to, or null (background). */
  readonly match: number | null;
  /** Share of the window's hard bounces at its organisations that the matched (or largest) injected incident made. */
  readonly share: number;
}

export interface ScenarioResult {
  readonly id: string;
  readonly family: string;
  readonly seed: number;
  readonly injected: readonly InjectedTruth[];
  readonly reported: readonly MatchedIncident[];
  /** Hard bounces and attempts inside the analysis window, for the record. */
  readonly windowHardBounces: number;
  readonly windowAttempts: number;
  readonly events: number;
  readonly seconds: number;
  /** Set when the scenario could not be run; it is then left out of every figure. */
  readonly error?: string;
}

const sum = (xs: Iterable<number>): number => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

/** The injected incident a reported one belongs to (see the module comment), and the share behind the choice. */
export function matchReported(
  reported: ReportedIncident,
  injected: readonly InjectedTruth[],
  background: Readonly<Record<string, number>>,
): { match: number | null; share: number } {
  const first = Date.parse(reported.firstSeen);
  const weight = (inj: InjectedTruth) => sum(reported.domains.map((d) => inj.byOrg[d] ?? 0));
  const total = sum(injected.map(weight)) + sum(reported.domains.map((d) => background[d] ?? 0));
  const shareOf = (inj: InjectedTruth) => (total > 0 ? weight(inj) / total : 0);
  const ips = [...reported.sendingIps, ...(reported.blamedIps ?? [])];
  const infrastructure = (inj: InjectedTruth) =>
    ips.some((ip) => inj.sendingIps.includes(ip)) ||
    (inj.campaign !== undefined && (reported.campaigns ?? []).includes(inj.campaign));
  const candidates = injected
    .map((inj, k) => ({ inj, k, share: shareOf(inj) }))
    .filter(({ inj }) => first >= Date.parse(inj.start) - ONSET_SLACK && first <= Date.parse(inj.end))
    .filter(({ inj, share }) => (share >= MIN_SHARE && weight(inj) > 0) || infrastructure(inj));
  if (candidates.length === 0) {
    const largest = Math.max(0, ...injected.map(shareOf));
    return { match: null, share: largest };
  }
  // Two incidents in one cluster: it belongs to the one whose truth accepts its verdict, if any; else the largest.
  const byShare = [...candidates].sort((a, b) => b.share - a.share || a.k - b.k);
  const chosen = byShare.find(({ inj }) => inj.truth.acceptable.includes(reported.verdict)) ?? byShare[0];
  return { match: chosen?.k ?? null, share: chosen?.share ?? 0 };
}

/** Whether a reported incident's verdict is right: acceptable for its injected incident, `list_decay` for background. */
export function isRight(r: MatchedIncident, injected: readonly InjectedTruth[]): boolean {
  if (r.match === null) return r.verdict === "list_decay";
  return injected[r.match]?.truth.acceptable.includes(r.verdict) ?? false;
}

export interface Target {
  readonly name: string;
  readonly want: string;
  readonly value: number | null;
  readonly display: string;
  readonly pass: boolean | null;
}

export interface IncidentOutcome {
  readonly scenario: string;
  readonly family: string;
  readonly kind: string;
  readonly truth: Truth;
  /**
   * found: an alert with an acceptable verdict; wrong_verdict: alerted, never acceptably; missed: no alert;
   * unobservable: none of its bounces fell in the analysis window (left out of every figure).
   */
  readonly outcome: "found" | "wrong_verdict" | "missed" | "unobservable";
  /** The verdict the confusion matrix files it under. */
  readonly reportedVerdict: Verdict | "missed";
  readonly orgPrecision: number | null;
  readonly orgRecall: number | null;
  readonly ipPrecision: number | null;
  readonly ipRecall: number | null;
}

export interface Metrics {
  readonly scenarios: number;
  readonly incidentScenarios: number;
  readonly quietScenarios: number;
  readonly failedScenarios: number;
  /** Injected incidents with bounces in the analysis window (the ones scored). */
  readonly injectedIncidents: number;
  readonly unobservable: number;
  readonly found: number;
  readonly wrongVerdict: number;
  readonly missed: number;
  readonly alertingIncidents: number;
  readonly alertingMatched: number;
  readonly alertingRightSide: number;
  readonly alertsOnBackground: number;
  readonly scenariosWithWrongSideAlert: number;
  readonly quietAlerts: number;
  readonly quietDaysWithAlert: number;
  readonly scope: {
    readonly organisations: { precision: number | null; recall: number | null; n: number };
    readonly sendingIps: { precision: number | null; recall: number | null; n: number };
  };
  readonly calibration: {
    readonly incidents: number;
    readonly brier: number | null;
    /** Brier score of always answering the overall share of right verdicts: what the confidence has to beat. */
    readonly brierBaseRate: number | null;
    readonly reliability: ReadonlyArray<{
      readonly bin: string;
      readonly n: number;
      readonly meanConfidence: number | null;
      readonly shareRight: number | null;
    }>;
  };
  /** Truth verdict (or "background") × reported verdict (or "missed"). */
  readonly confusion: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly byFamily: ReadonlyArray<{
    readonly family: string;
    readonly scenarios: number;
    readonly injected: number;
    readonly found: number;
    readonly wrongVerdict: number;
    readonly missed: number;
    readonly wrongSideScenarios: number;
    readonly alertsOnBackground: number;
  }>;
  readonly outcomes: readonly IncidentOutcome[];
  readonly targets: readonly Target[];
}

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);
const mean = (xs: readonly number[]): number | null => (xs.length > 0 ? sum(xs) / xs.length : null);
const pct = (x: number | null): string => (x === null ? "n/a" : `${(100 * x).toFixed(1)}%`);

/** Precision and recall of a reported set against a true set (null when undefined). */
function precisionRecall(
  reported: ReadonlySet<string>,
  truth: ReadonlySet<string>,
): { precision: number | null; recall: number | null } {
  const hit = [...reported].filter((x) => truth.has(x)).length;
  return { precision: ratio(hit, reported.size), recall: ratio(hit, truth.size) };
}

/** Every figure of the evaluation from per-scenario results. */
export function computeMetrics(results: readonly ScenarioResult[]): Metrics {
  const ok = results.filter((r) => !r.error);
  const incidentScenarios = ok.filter((r) => r.injected.length > 0);
  const quiet = ok.filter((r) => r.injected.length === 0);
  const outcomes: IncidentOutcome[] = [];
  const confusion: Record<string, Record<string, number>> = {};
  const bump = (row: string, col: string) => {
    const line = confusion[row] ?? {};
    line[col] = (line[col] ?? 0) + 1;
    confusion[row] = line;
  };
  let alerting = 0;
  let alertingMatched = 0;
  let rightSide = 0;
  let onBackground = 0;
  let wrongSideScenarios = 0;
  const calibration: Array<{ c: number; y: number }> = [];
  const familyWrongSide = new Map<string, number>();
  const familyBackground = new Map<string, number>();

  for (const s of ok) {
    let wrongSide = false;
    for (const r of s.reported) {
      calibration.push({ c: r.confidence, y: isRight(r, s.injected) ? 1 : 0 });
      if (!r.alert) continue;
      alerting++;
      if (r.match === null) {
        onBackground++;
        familyBackground.set(s.family, (familyBackground.get(s.family) ?? 0) + 1);
        bump("background", r.verdict);
        continue;
      }
      alertingMatched++;
      if (r.side === s.injected[r.match]?.truth.side) rightSide++;
      else wrongSide = true;
    }
    if (wrongSide) {
      wrongSideScenarios++;
      familyWrongSide.set(s.family, (familyWrongSide.get(s.family) ?? 0) + 1);
    }
    s.injected.forEach((inj, k) => {
      if (sum(Object.values(inj.byOrg)) === 0) {
        outcomes.push({
          scenario: s.id,
          family: s.family,
          kind: inj.kind,
          truth: inj.truth,
          outcome: "unobservable",
          reportedVerdict: "missed",
          orgPrecision: null,
          orgRecall: null,
          ipPrecision: null,
          ipRecall: null,
        });
        return;
      }
      const mine = s.reported.filter((r) => r.alert && r.match === k);
      const good = mine.filter((r) => inj.truth.acceptable.includes(r.verdict));
      const outcome = good.length > 0 ? "found" : mine.length > 0 ? "wrong_verdict" : "missed";
      const shown =
        good[0]?.verdict ?? [...mine].sort((a, b) => b.confidence - a.confidence)[0]?.verdict ?? "missed";
      bump(inj.truth.verdict, shown);
      const truthOrgs = new Set(Object.keys(inj.byOrg).filter((o) => (inj.byOrg[o] ?? 0) > 0));
      const orgs =
        good.length > 0 ? precisionRecall(new Set(good.flatMap((r) => r.domains)), truthOrgs) : null;
      const ips =
        good.length > 0 && inj.sendingIps.length > 0
          ? precisionRecall(new Set(good.flatMap((r) => r.sendingIps)), new Set(inj.sendingIps))
          : null;
      outcomes.push({
        scenario: s.id,
        family: s.family,
        kind: inj.kind,
        truth: inj.truth,
        outcome,
        reportedVerdict: shown,
        orgPrecision: orgs?.precision ?? null,
        orgRecall: orgs?.recall ?? null,
        ipPrecision: ips?.precision ?? null,
        ipRecall: ips?.recall ?? null,
      });
    });
  }

  const observable = outcomes.filter((o) => o.outcome !== "unobservable");
  const found = outcomes.filter((o) => o.outcome === "found").length;
  const wrongVerdict = outcomes.filter((o) => o.outcome === "wrong_verdict").length;
  const missed = outcomes.filter((o) => o.outcome === "missed").length;
  const quietAlerts = sum(quiet.map((s) => s.reported.filter((r) => r.alert).length));
  const quietDaysWithAlert = quiet.filter((s) => s.reported.some((r) => r.alert)).length;
  const present = (xs: ReadonlyArray<number | null>) => xs.filter((x): x is number => x !== null);

  const brier = mean(calibration.map(({ c, y }) => (c - y) ** 2));
  const baseRate = mean(calibration.map(({ y }) => y));
  const brierBaseRate = baseRate === null ? null : mean(calibration.map(({ y }) => (baseRate - y) ** 2));
  const reliability = Array.from({ length: 10 }, (_, i) => {
    const inBin = calibration.filter(({ c }) => Math.min(9, Math.floor(c * 10)) === i);
    return {
      bin: `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`,
      n: inBin.length,
      meanConfidence: mean(inBin.map(({ c }) => c)),
      shareRight: mean(inBin.map(({ y }) => y)),
    };
  });

  const families = [...new Set(ok.map((s) => s.family))];
  const byFamily = families.map((family) => {
    const mine = observable.filter((o) => o.family === family);
    return {
      family,
      scenarios: ok.filter((s) => s.family === family).length,
      injected: mine.length,
      found: mine.filter((o) => o.outcome === "found").length,
      wrongVerdict: mine.filter((o) => o.outcome === "wrong_verdict").length,
      missed: mine.filter((o) => o.outcome === "missed").length,
      wrongSideScenarios: familyWrongSide.get(family) ?? 0,
      alertsOnBackground: familyBackground.get(family) ?? 0,
    };
  });

  const sideAccuracy = ratio(rightSide, alertingMatched);
  const wrongSideShare = ratio(wrongSideScenarios, incidentScenarios.length);
  const foundShare = ratio(found, observable.length);
  const quietShare = ratio(quietDaysWithAlert, quiet.length);
  const target = (
    name: string,
    want: string,
    value: number | null,
    pass: (x: number) => boolean,
    display = pct(value),
  ): Target => ({ name, want, value, display, pass: value === null ? null : pass(value) });

  return {
    scenarios: results.length,
    incidentScenarios: incidentScenarios.length,
    quietScenarios: quiet.length,
    failedScenarios: results.length - ok.length,
    injectedIncidents: observable.length,
    unobservable: outcomes.length - observable.length,
    found,
    wrongVerdict,
    missed,
    alertingIncidents: alerting,
    alertingMatched,
    alertingRightSide: rightSide,
    alertsOnBackground: onBackground,
    scenariosWithWrongSideAlert: wrongSideScenarios,
    quietAlerts,
    quietDaysWithAlert,
    scope: {
      organisations: {
        precision: mean(present(outcomes.map((o) => o.orgPrecision))),
        recall: mean(present(outcomes.map((o) => o.orgRecall))),
        n: present(outcomes.map((o) => o.orgRecall)).length,
      },
      sendingIps: {
        precision: mean(present(outcomes.map((o) => o.ipPrecision))),
        recall: mean(present(outcomes.map((o) => o.ipRecall))),
        n: present(outcomes.map((o) => o.ipRecall)).length,
      },
    },
    calibration: { incidents: calibration.length, brier, brierBaseRate, reliability },
    confusion,
    byFamily,
    outcomes,
    targets: [
      target("side right on alerting incidents", "≥ 98%", sideAccuracy, (x) => x >= 0.98),
      target("scenarios with a wrong-side alert", "≤ 1%", wrongSideShare, (x) => x <= 0.01),
      target("injected incidents found with an acceptable verdict", "≥ 95%", foundShare, (x) => x >= 0.95),
      target("quiet days with a false alert", "≤ 1%", quietShare, (x) => x <= 0.01),
    ],
  };
}
