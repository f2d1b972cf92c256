import { join } from "node:path";
import type { Job } from "../../shared/aws/scheduler-event.ts";
import { keys } from "../../shared/store/keys.ts";
import { acquireLease, type Lease, type LeaseBody } from "../../shared/store/lease.ts";
import type { ObjectStore } from "../../shared/store/object-store.ts";

/** Exit status of a CLI run that did nothing because another run of the same job holds the folder's lease. */
export const LEASE_HELD_EXIT = 3;

/**
 * A CLI lease lapses this long after its last renewal: a run that dies on another host (a shared folder) frees
 * the folder after this; on the same host a dead run's lease is broken at once (the lease names its process).
 */
const CLI_LEASE_TTL_MS = 10 * 60_000;
const RENEW_EVERY_MS = 2 * 60_000;
const POLL_MS = 1000;

export class LeaseHeldError extends Error {}

export interface JobLeaseOptions {
  /** How long to wait for the other run to finish; 0 gives up at once. */
  readonly waitMs: number;
  /** For the message: the command line's name of this run (`ingest`, `import`, `analyze`). */
  readonly command: string;
  readonly log: (line: string) => void;
  /** The clock, for tests. */
  readonly now?: () => Date;
}

/**
 * Runs `work` holding the job's lease on the data folder — the same lease (state/leases/{job}.json) the
 * scheduled Lambdas take — so two runs of one job never work on a folder at once. The lease is renewed while
 * the work runs and released (only if still ours) when it ends. When another run holds it, waits up to
 * `waitMs`, then throws LeaseHeldError naming the holder and until when it holds.
 */
export async function withJobLease<T>(
  store: ObjectStore,
  job: Job,
  options: JobLeaseOptions,
  work: () => Promise<T>,
): Promise<T> {
  const now = options.now ?? (() => new Date());
  const key = keys.jobLease(job);
  const holder = `bounce-radar ${options.command} (pid ${process.pid}, started ${now().toISOString()})`;
  const deadline = now().getTime() + options.waitMs;
  let lease: Lease | null = null;
  let waiting = false;
  for (;;) {
    const attempt = await acquireLease(store, key, holder, now(), CLI_LEASE_TTL_MS, { recordProcess: true });
    if (attempt.acquired) {
      lease = attempt.lease;
      break;
    }
    if (now().getTime() >= deadline)
      throw new LeaseHeldError(heldMessage(store, key, job, attempt.heldBy, options));
    if (!waiting) {
      options.log(`${options.command}: waiting for ${describe(attempt.heldBy)} to finish (${key})`);
      waiting = true;
    }
    await new Promise((done) => setTimeout(done, Math.min(POLL_MS, deadline - now().getTime())));
  }
  const held = lease;
  let lost = false;
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = held.renew(now(), CLI_LEASE_TTL_MS).then(
      (ok) => {
        if (!ok && !lost) {
          lost = true;
          options.log(`${options.command}: WARNING: lost the ${job} lease (${key}) to another run`);
        }
      },
      (e: unknown) => options.log(`${options.command}: could not renew the ${job} lease: ${String(e)}`),
    );
  }, RENEW_EVERY_MS);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await renewing;
    await held.release();
  }
}

function describe(heldBy: LeaseBody | null): string {
  return heldBy?.holder ? heldBy.holder : "another run";
}

function heldMessage(
  store: ObjectStore,
  key: string,
  job: Job,
  heldBy: LeaseBody | null,
  options: JobLeaseOptions,
): string {
  const until = heldBy ? ` until ${heldBy.expiresAt} unless it finishes or renews it` : "";
  const where = heldBy?.process ? ` on ${heldBy.process.host}` : "";
  return (
    `another ${job} run holds the lease on this data folder: ${describe(heldBy)}${where}${until} ` +
    `(${join(store.location, key)}). This ${options.command} did nothing; rerun when it has finished, or ` +
    `pass --wait DURATION (e.g. --wait 10m) to wait for it. A run that died on this host frees the lease at once.`
  );
}

/** `--wait`: `0`, `90s`, `10m`, `1h` → milliseconds. */
export function parseWait(value: string | undefined): number {
  if (value === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/i.exec(value.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  return n * (unit === "h" ? 3_600_000 : unit === "m" ? 60_000 : 1000);
}
