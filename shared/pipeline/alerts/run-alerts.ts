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
}

export interface AlertRunResult {
  readonly sent: ReadonlyArray<{ kind: NotificationKind; key: string }>;
  readonly failed: ReadonlyArray<{ key: string; error: string }>;
  /** Set when another run held the lease and this one sent nothing. */
  readonly skipped?: string;
}

/**
 * Sends what an analysis run calls for and records it in state/alerts.json. Two overlapping runs must not
 * both alert: the lease is created with a conditional put (S3: If-None-Match: *, so exactly one creator
 * wins; local folder: an exclusive hard link, atomic on POSIX file systems). A failed publish is reported
 * and its incident is not marked alerted, so the next run tries again.
 */
export async function runAlerts(report: Report, deps: AlertDeps): Promise<AlertRunResult> {
  const { store } = deps;
  const lease = await acquireLease(
    store,
    keys.alertsLease(),
    report.runId,
    deps.now(),
    LEASE_MINUTES * 60_000,
  );
  if (!lease) {
    const why = "another run holds the alert lease; this run sent nothing";
    deps.log(`alerts: ${why}`);
    return { sent: [], failed: [], skipped: why };
  }
  try {
    const state = await readState(store, deps.log);
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
    await store.put(keys.alerts(), `${JSON.stringify(applyPlan(state, plan, delivered), null, 2)}\n`, {
      contentType: "application/json",
    });
    return { sent, failed };
  } finally {
    await lease.release();
  }
}

async function readState(store: ObjectStore, log: (line: string) => void): Promise<AlertState> {
  const body = await store.get(keys.alerts());
  if (!body) return EMPTY_ALERT_STATE;
  try {
    return AlertStateSchema.parse(JSON.parse(Buffer.from(body).toString("utf8")));
  } catch (e) {
    // Starting over re-announces open incidents once: noisy, but nothing is silently missed.
    log(`alerts: ${keys.alerts()} is unreadable (${(e as Error).message}); starting from an empty state`);
    return EMPTY_ALERT_STATE;
  }
}
