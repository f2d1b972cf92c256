/**
 * The attribution evaluation's scenario catalogue: which situations are simulated, how each is randomised from a
 * seed, and what counts as the right answer. A scenario is plain data (it crosses into worker processes); the
 * worker turns it into generateHistory options with rejection texts from the text bank's `score` half.
 *
 * Families cycle in a fixed schedule, so any run of N scenarios covers every family about N / schedule-length times;
 * quiet days weigh more, so the false-alert rate rests on about a hundred of them in a full run.
 */
import type { Verdict } from "../../shared/domain/report/report-schema.ts";
import type { HistoryOptions, IncidentKind, IncidentSpec } from "../../shared/simulation/b2b-history.ts";
import { mulberry32 } from "../../shared/simulation/seeded-random.ts";
import type { TextKind } from "./attribution-texts.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Histories start on one of seven consecutive days, so the analysed day falls on every weekday. */
const FIRST_START = Date.parse("2026-09-01T00:00:00.000Z");
export const HISTORY_DAYS = 35;

/** What the analysis should answer about one injected incident. */
export interface Truth {
  /** The side to blame. */
  readonly side: "recipient" | "sender";
  /** The verdict the confusion matrix files it under. */
  readonly verdict: Verdict;
  /** Verdicts counted as right (always including `verdict`). */
  readonly acceptable: readonly Verdict[];
}

/** An incident as data: generateHistory's spec without functions, the text kind to draw from, and its truth. */
export interface ScenarioIncident {
  readonly kind: IncidentKind;
  /** ISO instant. */
  readonly at: string;
  readonly durationHours?: number;
  readonly gateway?: string;
  readonly ipPool?: string;
  readonly sendingIps?: readonly string[];
  readonly rate?: number;
  readonly rates?: Readonly<Record<string, number>>;
  readonly rampHours?: number;
  readonly remoteReply?: boolean;
  /** Rejection texts from the bank's scoring half for this kind (the simulation's own wording where it has none). */
  readonly textKind: TextKind;
  readonly truth: Truth;
}

export interface Scenario {
  readonly index: number;
  readonly id: string;
  readonly family: string;
  readonly seed: number;
  /** The analysis time (ISO): the end of the history; the window is the 24 hours before it. */
  readonly at: string;
  readonly world: Omit<HistoryOptions, "incidents" | "start" | "seed"> & { readonly start: string };
  readonly incidents: readonly ScenarioIncident[];
}

type Rng = () => number;
interface Ctx {
  readonly r: Rng;
  /** Analysis time (ms). */
  readonly at: number;
  /** An onset inside the analysis window: 6–22 hours before its end. */
  readonly onset: () => string;
}

const between = (r: Rng, lo: number, hi: number): number => lo + (hi - lo) * r();
const oneOf = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

const recipient = (verdict: Verdict = "recipient_filter"): Truth => ({
  side: "recipient",
  verdict,
  acceptable: [verdict],
});
const sender = (verdict: Verdict, ...alsoRight: Verdict[]): Truth => ({
  side: "sender",
  verdict,
  acceptable: [verdict, ...alsoRight],
});

/** The strict receivers of 2024–2025 (bulk-sender authentication requirements): Gmail, Yahoo, Outlook.com. */
const STRICT_DMARC: Readonly<Record<string, number>> = {
  gmail: 0.55,
  yahoo: 0.55,
  outlook_com: 0.45,
  google_workspace: 0.35,
};

interface Family {
  readonly name: string;
  /** How often it appears in one cycle of the schedule. */
  readonly weight: number;
  /** World options beyond the default randomisation. */
  readonly world?: (c: Ctx) => Partial<Scenario["world"]>;
  /** Days after FIRST_START the history starts (default: the scenario index modulo 7). */
  readonly startDay?: number;
  readonly incidents: (c: Ctx) => ScenarioIncident[];
}

const userUnknown = (gateway: string): Family => ({
  name: `user_unknown@${gateway}`,
  weight: 1,
  world: () => ({ organisations: 120 }),
  incidents: (c) => [
    {
      kind: "gateway_user_unknown_one_org",
      at: c.onset(),
      gateway,
      rate: between(c.r, 0.35, 0.7),
      textKind: "user_unknown",
      truth: recipient(),
    },
  ],
});

const ipBlocklisted = (c: Ctx): ScenarioIncident => ({
  kind: "ip_blocklisted",
  at: c.onset(),
  textKind: "reputation",
  truth: sender("sender_reputation"),
});
const gatewayPolicy = (
  c: Ctx,
  gateway = oneOf(c.r, ["mimecast", "proofpoint", "microsoft365", "barracuda"]),
) =>
  ({
    kind: "gateway_policy_change",
    at: c.onset(),
    gateway,
    textKind: "policy",
    truth: recipient(),
  }) satisfies ScenarioIncident;
const contentBlock = (c: Ctx): ScenarioIncident => ({
  kind: "content_block",
  at: c.onset(),
  // Yahoo refuses content it will not take ("554 5.7.9 Message not accepted for policy reasons") instead of junking it.
  rates: { yahoo: between(c.r, 0.2, 0.45) },
  textKind: "content",
  truth: sender("content_block"),
});

export const FAMILIES: readonly Family[] = [
  ...["microsoft365", "google_workspace", "proofpoint", "mimecast", "barracuda", "cisco"].map(userUnknown),
  { name: "gateway_policy_change", weight: 1, incidents: (c) => [gatewayPolicy(c)] },
  {
    name: "tenant_directory_block",
    weight: 1,
    incidents: (c) => [
      {
        kind: "gateway_user_unknown_one_org",
        at: c.onset(),
        gateway: "microsoft365",
        rate: between(c.r, 0.6, 0.9),
        textKind: "directory_block",
        truth: recipient(),
      },
    ],
  },
  {
    name: "workspace_admin_rule",
    weight: 1,
    incidents: (c) => [
      {
        kind: "org_policy_block",
        at: c.onset(),
        gateway: "google_workspace",
        textKind: "policy",
        truth: recipient(),
      },
    ],
  },
  { name: "ip_blocklisted", weight: 1, incidents: (c) => [ipBlocklisted(c)] },
  {
    name: "pool_reputation",
    weight: 1,
    incidents: (c) => [
      {
        kind: "pool_reputation",
        at: c.onset(),
        ipPool: oneOf(c.r, ["pool-a", "pool-b"]),
        textKind: "reputation",
        truth: sender("sender_reputation"),
      },
    ],
  },
  {
    name: "dmarc_all_providers",
    weight: 1,
    incidents: (c) => [
      { kind: "dmarc_failing", at: c.onset(), textKind: "auth", truth: sender("sender_authentication") },
    ],
  },
  {
    name: "dmarc_strict_providers",
    weight: 1,
    incidents: (c) => [
      {
        kind: "dmarc_failing",
        at: c.onset(),
        rate: 0,
        rates: STRICT_DMARC,
        textKind: "auth",
        truth: sender("sender_authentication"),
      },
    ],
  },
  { name: "content_block", weight: 1, incidents: (c) => [contentBlock(c)] },
  {
    // Two of four sending IPs fail most mail at every receiver, in the ESP's own "[internal]" words.
    name: "esp_pool_fault",
    weight: 1,
    world: () => ({
      ipPools: { "pool-a": ["198.51.100.10", "198.51.100.11"], "pool-b": ["203.0.113.20", "203.0.113.21"] },
    }),
    incidents: (c) => [
      {
        kind: "esp_pool_fault",
        at: c.onset(),
        ipPool: "pool-b",
        rate: between(c.r, 0.8, 0.95),
        textKind: "esp_internal",
        truth: sender("esp_fault"),
      },
    ],
  },
  {
    // The pool's IPs lost their reverse DNS: receivers refuse them and name the IP.
    name: "esp_pool_fault_remote_reply",
    weight: 1,
    incidents: (c) => [
      {
        kind: "esp_pool_fault",
        at: c.onset(),
        ipPool: oneOf(c.r, ["pool-a", "pool-b"]),
        rate: between(c.r, 0.5, 0.9),
        remoteReply: true,
        textKind: "esp_remote",
        truth: sender("esp_fault", "sender_reputation"),
      },
    ],
  },
  {
    name: "second_esp_failing",
    weight: 1,
    world: () => ({
      ipPools: {
        "esp-a": ["198.51.100.10", "198.51.100.11", "198.51.100.12"],
        "esp-b": ["192.0.2.40", "192.0.2.41", "192.0.2.42"],
      },
      poolSources: { "esp-a": "mailgun", "esp-b": "sparkpost" },
    }),
    incidents: (c) => [
      {
        kind: "esp_pool_fault",
        at: c.onset(),
        ipPool: "esp-b",
        rate: between(c.r, 0.5, 0.9),
        textKind: "esp_internal",
        truth: sender("esp_fault"),
      },
    ],
  },
  // An unreachable platform is nobody's policy, but it is not the sender's or the ESP's fault either: the truth is
  // the recipient side, and recipient_filter is the only recipient-side verdict.
  {
    name: "outage_microsoft365",
    weight: 1,
    incidents: (c) => [
      {
        kind: "provider_outage",
        at: c.onset(),
        gateway: "microsoft365",
        rate: between(c.r, 0.3, 0.7),
        textKind: "outage",
        truth: recipient(),
      },
    ],
  },
  {
    name: "outage_consumer_provider",
    weight: 1,
    incidents: (c) => [
      {
        kind: "provider_outage",
        at: c.onset(),
        gateway: oneOf(c.r, ["outlook_com", "yahoo", "gmail"]),
        rate: between(c.r, 0.4, 0.8),
        textKind: "outage",
        truth: recipient(),
      },
    ],
  },
  {
    name: "two_incidents_one_per_side",
    weight: 1,
    world: () => ({ organisations: 120 }),
    incidents: (c) => {
      const near = oneOf(c.r, [
        () => gatewayPolicy(c, oneOf(c.r, ["mimecast", "proofpoint"])),
        () =>
          ({
            kind: "gateway_user_unknown_one_org",
            at: c.onset(),
            textKind: "user_unknown",
            truth: recipient(),
          }) satisfies ScenarioIncident,
      ])();
      const far = oneOf(c.r, [ipBlocklisted, contentBlock])(c);
      return [near, far];
    },
  },
  {
    // Over three to four days, so the analysed day is a Tuesday: its newsletter makes the last day visible (a
    // multi-day incident gets no flash campaign of its own).
    name: "gradual_onset",
    weight: 1,
    startDay: 1,
    incidents: (c) => {
      const at = new Date(c.at - between(c.r, 3, 4) * DAY).toISOString();
      const durationHours = (c.at - Date.parse(at)) / HOUR;
      const rampHours = durationHours * between(c.r, 0.6, 0.9);
      const kind = oneOf(c.r, ["gateway_policy_change", "ip_blocklisted", "org_policy_block"] as const);
      const base = { at, durationHours, rampHours };
      if (kind === "ip_blocklisted")
        return [{ ...base, kind, textKind: "reputation", truth: sender("sender_reputation") }];
      if (kind === "org_policy_block")
        return [
          {
            ...base,
            kind,
            gateway: oneOf(c.r, ["google_workspace", "microsoft365"]),
            textKind: "policy",
            truth: recipient(),
          },
        ];
      return [
        {
          ...base,
          kind,
          gateway: oneOf(c.r, ["mimecast", "proofpoint"]),
          textKind: "policy",
          truth: recipient(),
        },
      ];
    },
  },
  {
    name: "unrecognised_gateway_policy",
    weight: 1,
    world: (c) => ({ unrecognisedGateway: Math.round(between(c.r, 6, 12)) }),
    incidents: (c) => [
      {
        kind: "gateway_policy_change",
        at: c.onset(),
        gateway: "unrecognised",
        textKind: "policy",
        truth: recipient(),
      },
    ],
  },
  {
    name: "low_volume_incident",
    weight: 1,
    world: (c) => ({ organisations: 40, volume: between(c.r, 0.12, 0.2) }),
    incidents: (c) =>
      oneOf(c.r, [
        () => [gatewayPolicy(c, oneOf(c.r, ["mimecast", "proofpoint", "microsoft365"]))],
        () => [ipBlocklisted(c)],
        () =>
          [
            {
              kind: "dmarc_failing",
              at: c.onset(),
              textKind: "auth",
              truth: sender("sender_authentication"),
            },
          ] satisfies ScenarioIncident[],
        () =>
          [
            {
              kind: "org_policy_block",
              at: c.onset(),
              gateway: "microsoft365",
              textKind: "policy",
              truth: recipient(),
            },
          ] satisfies ScenarioIncident[],
      ])(),
  },
  { name: "quiet", weight: 3, incidents: () => [] },
  {
    name: "quiet_high_turnover",
    weight: 3,
    world: (c) => ({ turnover: between(c.r, 0.06, 0.12) }),
    incidents: () => [],
  },
  {
    name: "quiet_tiny_domains",
    weight: 2,
    world: (c) => ({ tinyBounces: Math.round(between(c.r, 6, 12)) }),
    incidents: () => [],
  },
  {
    name: "quiet_low_volume",
    weight: 2,
    world: (c) => ({ organisations: 40, volume: between(c.r, 0.12, 0.2) }),
    incidents: () => [],
  },
];

/**
 * One cycle of families, each repeated by its weight, in a fixed shuffled order: a full run covers every family
 * about equally, and a short run (`--scenarios 20`) still mixes both sides and quiet days.
 */
export const SCHEDULE: readonly string[] = (() => {
  const slots = FAMILIES.flatMap((f) => Array.from({ length: f.weight }, () => f.name));
  const r = mulberry32(15);
  for (let i = slots.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [slots[i], slots[j]] = [slots[j] as string, slots[i] as string];
  }
  return slots;
})();

/** A 32-bit seed for scenario `index` of a run with base seed `base`. */
export function scenarioSeed(base: number, index: number): number {
  let h = (0x9e3779b9 ^ base) >>> 0;
  h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Scenario `index` of a run: its family from the schedule, everything else drawn from its own seed. */
export function buildScenario(base: number, index: number, only?: ReadonlySet<string>): Scenario {
  const schedule = only ? SCHEDULE.filter((f) => only.has(f)) : SCHEDULE;
  if (schedule.length === 0) throw new Error("no scenario family selected");
  const name = schedule[index % schedule.length] as string;
  const family = FAMILIES.find((f) => f.name === name) as Family;
  const seed = scenarioSeed(base, index);
  const r = mulberry32(seed);
  const start = FIRST_START + (family.startDay ?? index % 7) * DAY;
  const at = start + HISTORY_DAYS * DAY;
  const ctx: Ctx = { r, at, onset: () => new Date(at - between(r, 6, 22) * HOUR).toISOString() };
  const world: Scenario["world"] = {
    start: new Date(start).toISOString(),
    days: HISTORY_DAYS,
    organisations: Math.round(between(r, 60, 120)),
    volume: between(r, 0.35, 0.7),
    ...family.world?.(ctx),
  };
  return {
    index,
    id: `${String(index).padStart(3, "0")}-${family.name}`,
    family: family.name,
    seed,
    at: new Date(at).toISOString(),
    world,
    incidents: family.incidents(ctx),
  };
}

/** generateHistory's incident spec for a scenario incident, with its texts from `textsFor`. */
export function toIncidentSpec(
  i: ScenarioIncident,
  textsFor: (kind: TextKind, gateway: string) => readonly string[],
): IncidentSpec {
  const { textKind, truth: _truth, at, ...rest } = i;
  return { ...rest, at: new Date(at), texts: (gateway) => textsFor(textKind, gateway) };
}
