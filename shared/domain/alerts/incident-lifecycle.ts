import * as z from "zod";
import { type Incident, IncidentSchema, type Report, VerdictSchema } from "../report/report-schema.ts";

/** Which incidents page someone, and how often (part of the configuration). */
export const AlertPolicySchema = z.strictObject({
  verdicts: z
    .array(VerdictSchema)
    .default([
      "recipient_filter",
      "sender_reputation",
      "sender_authentication",
      "content_block",
      "esp_fault",
    ]),
  sides: z.array(z.enum(["recipient", "sender", "neutral"])).default(["recipient", "sender"]),
  minConfidence: z.number().min(0).max(1).default(0.6),
  /** An ongoing incident stays silent this long after its last message unless it escalates. */
  cooldownHours: z
    .number()
    .min(0)
    .max(24 * 30)
    .default(24),
});
export type AlertPolicy = z.infer<typeof AlertPolicySchema>;

const OpenIncidentSchema = z.object({
  key: z.string(),
  firstAlertedAt: z.string(),
  lastNotifiedAt: z.string(),
  lastSeenAt: z.string(),
  /** Everything already announced: growth beyond it is an escalation. */
  notifiedDomains: z.array(z.string()),
  notifiedGateways: z.array(z.string()),
  notifiedSendingIps: z.array(z.string()),
  notifiedRate: z.number(),
  /** The latest snapshot, for the all-clear message. */
  incident: IncidentSchema,
});
export type OpenIncident = z.infer<typeof OpenIncidentSchema>;

export const AlertStateSchema = z.object({
  version: z.literal(1),
  open: z.record(z.string(), OpenIncidentSchema),
  /**
   * The window end of the latest run that updated this state: the live edge. A run whose window ends
   * before it is a backfill and leaves the state alone (older states lack it).
   */
  liveWindowEnd: z.iso.datetime().optional(),
});
export type AlertState = z.infer<typeof AlertStateSchema>;

export const EMPTY_ALERT_STATE: AlertState = { version: 1, open: {} };

export type NotificationKind = "new" | "escalated" | "resolved";

export interface PlannedNotification {
  readonly kind: NotificationKind;
  readonly key: string;
  readonly incident: Incident;
  /** The state entry once this notification is delivered (null: remove it, the incident is over). */
  readonly next: OpenIncident | null;
}

export interface AlertPlan {
  readonly notifications: readonly PlannedNotification[];
  /** State changes that need no message (an ongoing incident seen again, silently). */
  readonly silentUpdates: readonly OpenIncident[];
}

/**
 * The stable identity of an incident across runs. Analysis makes at most one sender incident per verdict and
 * one recipient cluster per known gateway in a run, so those are the keys; a single organisation behind an
 * unknown or self-hosted gateway is keyed by its domain. Scope may grow under the same key: that is escalation.
 */
export function incidentKey(i: Incident): string {
  if (i.side === "sender") return i.verdict;
  const gateways = i.scope.gateways.filter((g) => g !== "unknown" && g !== "self_hosted");
  if (gateways.length > 0) return `${i.verdict}|${gateways.join(",")}`;
  return `${i.verdict}|${i.scope.domains.join(",")}`;
}

export function shouldAlert(i: Incident, policy: AlertPolicy): boolean {
  return (
    i.alert &&
    policy.verdicts.includes(i.verdict) &&
    policy.sides.includes(i.side) &&
    i.confidence >= policy.minConfidence
  );
}

const grows = (now: readonly string[], before: readonly string[]): boolean => {
  const known = new Set(before);
  return now.some((x) => !known.has(x));
};
const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])].sort();

/**
 * What to send after an analysis run: a new incident alerts once; an ongoing one stays silent within the
 * cooldown unless its scope grows or its rate doubles; an open incident absent from this run is over and sends
 * one all-clear. Pure: the caller delivers, then stores `next` only for what was delivered.
 */
export function planNotifications(
  state: AlertState,
  report: Report,
  policy: AlertPolicy,
  now: Date,
): AlertPlan {
  const at = now.toISOString();
  const notifications: PlannedNotification[] = [];
  const silentUpdates: OpenIncident[] = [];
  const seen = new Set<string>();
  for (const incident of report.incidents) {
    if (!shouldAlert(incident, policy)) continue;
    const key = incidentKey(incident);
    if (seen.has(key)) continue;
    seen.add(key);
    const open = state.open[key];
    const fresh: OpenIncident = {
      key,
      firstAlertedAt: open?.firstAlertedAt ?? at,
      lastNotifiedAt: at,
      lastSeenAt: at,
      notifiedDomains: union(open?.notifiedDomains ?? [], incident.scope.domains),
      notifiedGateways: union(open?.notifiedGateways ?? [], incident.scope.gateways),
      notifiedSendingIps: union(open?.notifiedSendingIps ?? [], incident.scope.sendingIps),
      notifiedRate: Math.max(open?.notifiedRate ?? 0, incident.metrics.rate),
      incident,
    };
    if (!open) {
      notifications.push({ kind: "new", key, incident, next: fresh });
      continue;
    }
    const escalated =
      grows(incident.scope.domains, open.notifiedDomains) ||
      grows(incident.scope.gateways, open.notifiedGateways) ||
      grows(incident.scope.sendingIps, open.notifiedSendingIps) ||
      incident.metrics.rate >= 2 * open.notifiedRate;
    const cooled = now.getTime() - Date.parse(open.lastNotifiedAt) >= policy.cooldownHours * 3_600_000;
    if (escalated) notifications.push({ kind: "escalated", key, incident, next: fresh });
    else if (cooled) notifications.push({ kind: "new", key, incident, next: fresh });
    else silentUpdates.push({ ...open, lastSeenAt: at, incident });
  }
  for (const [key, open] of Object.entries(state.open)) {
    if (!seen.has(key)) notifications.push({ kind: "resolved", key, incident: open.incident, next: null });
  }
  return { notifications, silentUpdates };
}

/** Applies delivered notifications and silent updates; undelivered ones leave the state as it was. */
export function applyPlan(state: AlertState, plan: AlertPlan, delivered: ReadonlySet<string>): AlertState {
  const open = { ...state.open };
  for (const u of plan.silentUpdates) open[u.key] = u;
  for (const n of plan.notifications) {
    if (!delivered.has(n.key)) continue;
    if (n.next) open[n.key] = n.next;
    else delete open[n.key];
  }
  return { version: 1, open };
}
