import {
  type AlertPolicy,
  type AlertState,
  AlertStateSchema,
  applyPlan,
  EMPTY_ALERT_STATE,
  type NotificationKind,
  planNotifications,
} from "../../domain/alerts/incident-lifecycle.ts";
import type { Report } from "../../domain/report/report-schema.ts";
import { formatAlert } from "../../notify/alert-message.ts";
import type { Notifier } from "../../notify/notifier.ts";
import { keys } from "../../store/keys.ts";
import { acquireLease } from "../../store/lease.ts";
import type { ObjectStore } from "../../store/object-store.ts";

/** A lease older than this belongs to a run that died; it may be broken. */
const LEASE_MINUTES = 15;

export interface AlertDeps {
  readonly store: ObjectStore;
  readonly notifier: Notifier;
  readonly policy: AlertPolicy;
  readonly now: () => Date;
  readonly log: (line: string) => void;
  /** Where the report is, for the message: an s3:// URI or a local path. */
  readonly reportUri: string;
  readonly consoleUrl?: string;
  /**
   * Run the lifecycle even for a window that ends before the last live run's (an explicit backfill with
   * alerts, CLI --alerts). Default false: such a run sends nothing and leaves state/alerts.json alone.
   */
  readonly evenIfBehindLiveEdge?: boolean;
}

export interface AlertRunResult {
  readonly sent: ReadonlyArray<{ kind: NotificationKind; key: string }>;
  readonly failed: ReadonlyArray<{ key: string; error: string }>;
  /** Set when this run sent nothing and left the state alone: another run held the lease, or a backfill. */
  readonly skipped?: string;
  /** Set when state/alerts.json was damaged: what was wrong and what to do. */
  readonly damagedState?: string;
}

/**
 * Sends what an analysis run calls for and records it in state/alerts.json. Two overlapping runs must not
 * both alert: the lease is created with a conditional put (S3: If-None-Match: *, so exactly one creator
 * wins; local folder: an exclusive hard link, atomic on POSIX file systems). A failed publish is reported
 * and its incident is not marked alerted, so the next run tries again. Only the live window alerts: a report
 * whose window ends before the last live run's (a backfill) neither reads nor changes the state unless asked.
 */
export async function runAlerts(report: Report, deps: AlertDeps): Promise<AlertRunResult> {
  const { store } = deps;
  const attempt = await acquireLease(
    store,
    keys.alertsLease(),
    report.runId,
    deps.now(),
    LEASE_MINUTES * 60_000,
  );
  if (!attempt.acquired) {
    const why = "another run holds the alert lease; this run sent nothing";
    deps.log(`alerts: ${why}`);
    return { sent: [], failed: [], skipped: why };
  }
  try {
    const { state, damaged } = await readState(store, deps.log);
    const edge = state.liveWindowEnd;
    const behind = edge !== undefined && Date.parse(report.window.end) < Date.parse(edge);
    if (behind && deps.evenIfBehindLiveEdge !== true) {
      const why = `a backfill: its window ends at ${report.window.end}, before the last live run's (${edge}); alert state untouched`;
      deps.log(`alerts: ${why}`);
      return { sent: [], failed: [], skipped: why };
    }
    const plan = planNotifications(state, report, deps.policy, deps.now());
    const delivered = new Set<string>();
    const sent: Array<{ kind: NotificationKind; key: string }> = [];
    const failed: Array<{ key: string; error: string }> = [];
    for (const n of plan.notifications) {
      const message = formatAlert(n.kind, n.incident, {
        reportUri: deps.reportUri,
        ...(deps.consoleUrl ? { consoleUrl: deps.consoleUrl } : {}),
        window: report.window,
      });
      try {
        await deps.notifier.publish(message);
        delivered.add(n.key);
        sent.push({ kind: n.kind, key: n.key });
      } catch (e) {
        failed.push({ key: n.key, error: (e as Error).message });
        deps.log(`alerts: could not send ${n.kind} for ${n.key}: ${(e as Error).message}`);
      }
    }
    // A forced backfill does not move the live edge back.
    const liveWindowEnd = behind ? edge : report.window.end;
    const next = { ...applyPlan(state, plan, delivered), liveWindowEnd };
    await store.put(keys.alerts(), `${JSON.stringify(next, null, 2)}\n`, {
      contentType: "application/json",
    });
    return { sent, failed, ...(damaged ? { damagedState: damaged } : {}) };
  } finally {
    await attempt.lease.release();
  }
}

/**
 * The alert state. A damaged one (not JSON, or not the state's shape) is named in a warning, kept aside as
 * state/alerts.damaged.json, and replaced by an empty state: open incidents are then announced again (noisy,
 * but nothing is missed), and an incident it held can never be declared resolved, since nothing is open.
 */
async function readState(
  store: ObjectStore,
  log: (line: string) => void,
): Promise<{ state: AlertState; damaged?: string }> {
  const body = await store.get(keys.alerts());
  if (!body) return { state: EMPTY_ALERT_STATE };
  let problem: string;
  try {
    const parsed = AlertStateSchema.safeParse(JSON.parse(Buffer.from(body).toString("utf8")));
    if (parsed.success) return { state: parsed.data };
    const issue = parsed.error.issues[0];
    problem = `not an alert state (${issue?.path.join(".") || "top level"}: ${issue?.message})`;
  } catch (e) {
    problem = `not JSON (${(e as Error).message})`;
  }
  await store.put(keys.alertsDamaged(), body, { contentType: "application/json" });
  const damaged = `${keys.alerts()} is damaged: ${problem}. A copy is kept as ${keys.alertsDamaged()}; this run starts from an empty alert state, so open incidents are announced again and none is declared resolved. Nothing to do unless you want the old state back (restore it from the copy or a backup).`;
  log(`alerts: WARNING: ${damaged}`);
  return { state: EMPTY_ALERT_STATE, damaged };
}
