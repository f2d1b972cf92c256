import type { NormalizedEvent } from "../../domain/events/normalized-event.ts";
import { type Incident, type Report, ReportSchema } from "../../domain/report/report-schema.ts";
import {
  PROOF_OF_LIFE_DAYS,
  reviewSuppressions,
  type SuppressionReview,
} from "../../domain/suppressions/wrongly-suppressed.ts";
import { keys, utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import { addressHash, readDayEvents } from "../analyze/daily-aggregates.ts";
import { DerivedDays, dayInputs } from "../analyze/derived-days.ts";

export class IncidentNotFoundError extends Error {
  override readonly name = "IncidentNotFoundError";
}

export interface FoundIncident {
  readonly report: Report;
  readonly reportKey: string;
  readonly incident: Incident;
}

/**
 * The report that holds an incident: reports/latest.json first, then every stored report, newest first (an
 * incident's id is stable across the hourly runs that see it, so the newest report has its widest window).
 * A damaged report (latest.json cut short by a crash, say) is named in a warning and passed over: the dated
 * report beside it still answers.
 */
export async function findIncident(
  store: ObjectStore,
  incidentId: string,
  warn: (line: string) => void = () => undefined,
): Promise<FoundIncident> {
  const candidates = [keys.latestReport("latest.json")];
  const dated: string[] = [];
  for await (const o of store.list("reports/")) {
    if (/^reports\/\d{4}\/\d{2}\/\d{2}\/[^/]+\/report\.json$/.test(o.key)) dated.push(o.key);
  }
  candidates.push(...dated.sort().reverse());
  let read = 0;
  for (const key of candidates) {
    const body = await store.get(key);
    if (!body) continue;
    const parsed = parseReport(body);
    if (!parsed.success) {
      warn(
        `suppressions: WARNING: skipping damaged report ${key} in ${store.location} (${parsed.problem}); the next analyze rewrites reports/latest.*`,
      );
      continue;
    }
    read++;
    const incident = parsed.data.incidents.find((i) => i.id === incidentId);
    if (incident) return { report: parsed.data, reportKey: key, incident };
  }
  throw new IncidentNotFoundError(
    `incident ${JSON.stringify(incidentId)} is in none of the ${read} report(s) under reports/: run "bounce-radar analyze" first, or copy the id from report.json's incidents[].id`,
  );
}

function parseReport(
  body: Uint8Array,
): { success: true; data: Report } | { success: false; problem: string } {
  try {
    const parsed = ReportSchema.safeParse(JSON.parse(Buffer.from(body).toString("utf8")));
    if (parsed.success) return { success: true, data: parsed.data };
    const issue = parsed.error.issues[0];
    return {
      success: false,
      problem: `not a report: ${issue?.path.join(".") || "top level"}: ${issue?.message}`,
    };
  } catch (e) {
    return { success: false, problem: `not JSON: ${(e as Error).message}` };
  }
}

export interface IncidentSuppressions extends FoundIncident {
  readonly review: SuppressionReview;
}

/**
 * The addresses a recipient-side incident had the ESPs suppress, split into those to re-activate (delivered
 * within 90 days before their bounce) and those to keep. A sender-side incident's bounces were the sender's
 * own doing: re-activating them would only bounce again, so it is refused.
 */
export async function findWronglySuppressed(
  store: ObjectStore,
  incidentId: string,
  warn: (line: string) => void = () => undefined,
  now: Date = new Date(),
): Promise<IncidentSuppressions> {
  const found = await findIncident(store, incidentId, warn);
  const { incident, report } = found;
  if (incident.side !== "recipient") {
    throw new IncidentNotFoundError(
      `incident ${incidentId} is ${incident.verdict} on the ${incident.side} side: its suppressions are not wrong, nothing to repair`,
    );
  }
  const orgs = new Set(incident.scope.domains);
  const from = Date.parse(report.window.start);
  const to = Date.parse(report.window.end);
  const bounces: NormalizedEvent[] = [];
  for (let day = utcDate(new Date(from)); day <= utcDate(new Date(to - 1)); day = nextDay(day)) {
    for await (const e of readDayEvents(store, day)) {
      const at = Date.parse(e.occurredAt);
      if (e.type === "bounced" && orgs.has(e.organisation) && at >= from && at < to && isHard(e))
        bounces.push(e);
    }
  }
  // Last deliveries from 90 days before the window to today (a delivery since the bounce says "keep").
  const derived = await DerivedDays.open(store, warn);
  const days = [];
  const today = utcDate(now);
  for (let day = utcDate(new Date(from - PROOF_OF_LIFE_DAYS * DAY)); day <= today; day = nextDay(day))
    days.push(await dayInputs(store, day));
  await derived.refresh(days);
  const last = await derived.lastDeliveries(days, new Set(bounces.map((e) => addressHash(e.recipient))));
  await derived.commit();
  return {
    ...found,
    review: reviewSuppressions(bounces, (e) => last.get(addressHash(e.recipient)) ?? null),
  };
}

/** A bounce the ESP suppresses for: called hard (or a block), or a 5xx reply when the ESP said nothing. */
function isHard(e: NormalizedEvent): boolean {
  // SendGrid keeps blocks on a suppression list of their own, so a block is suppressed too.
  if (e.espClass !== null) return e.espClass === "hard" || e.espClass === "block";
  return (e.smtp?.code ?? 0) >= 500;
}

const DAY = 86_400_000;

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + DAY).toISOString().slice(0, 10);
}
