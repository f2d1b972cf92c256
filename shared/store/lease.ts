import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import * as z from "zod";
import type { ObjectStore } from "./object-store.ts";

/**
 * The lease object. Only the expiry decides for a holder elsewhere; `holder` is for people reading it (older
 * leases named it runId), `token` tells one acquisition from another, and `process` lets a run on the same
 * host see at once that a crashed holder is gone.
 */
const LeaseBodySchema = z.looseObject({
  expiresAt: z.iso.datetime(),
  holder: z.string().optional(),
  token: z.string().optional(),
  process: z.object({ host: z.string(), pid: z.number().int() }).optional(),
});
export type LeaseBody = z.infer<typeof LeaseBodySchema>;

export interface Lease {
  readonly key: string;
  /** When the lease lapses unless renewed. */
  readonly expiresAt: string;
  /** Extends the lease to `now + ttlMs` if it is still this one's; false when it was lost (expired and broken). */
  renew(now: Date, ttlMs: number): Promise<boolean>;
  /**
   * Deletes the lease if it is still this one's (a delete conditional on its version), so a late release never
   * deletes a newer holder's lease; false when it was not.
   */
  release(): Promise<boolean>;
}

export type LeaseOutcome =
  | { readonly acquired: true; readonly lease: Lease }
  /** `heldBy` is null when the holder could not be read (it changed under us too often). */
  | { readonly acquired: false; readonly heldBy: LeaseBody | null };

export interface LeaseOptions {
  /** Records this process (host and pid) in the lease: a CLI run. */
  readonly recordProcess?: boolean;
}

/** Rounds of create / read / replace before giving up against contenders that keep changing the lease. */
const ACQUIRE_ROUNDS = 5;

/**
 * A lease on one job, so two overlapping runs (a slow run and the next schedule, a retry, or two CLI runs on
 * one data folder) never work at once. Created with a conditional put (S3: If-None-Match: *, so exactly one
 * creator wins; local folder: an exclusive hard link). A lease whose holder died — expired, or (same host)
 * its process is gone — is broken by replacing exactly the version that was read (S3: If-Match on its ETag),
 * so of several contenders breaking it at once exactly one wins.
 */
export async function acquireLease(
  store: ObjectStore,
  key: string,
  holder: string,
  now: Date,
  ttlMs: number,
  options: LeaseOptions = {},
): Promise<LeaseOutcome> {
  const token = randomUUID();
  const bodyFor = (at: Date, ttl: number): string =>
    JSON.stringify({
      holder,
      token,
      expiresAt: new Date(at.getTime() + ttl).toISOString(),
      ...(options.recordProcess ? { process: { host: hostname(), pid: process.pid } } : {}),
    });
  const body = bodyFor(now, ttlMs);
  let heldBy: LeaseBody | null = null;
  for (let round = 0; round < ACQUIRE_ROUNDS; round++) {
    if (await store.put(key, body, { ifAbsent: true, contentType: "application/json" }))
      return confirm(store, key, token, bodyFor);
    const current = await store.getVersioned(key);
    // Released since our put: compete again.
    if (!current) continue;
    heldBy = parseLease(current.body);
    if (heldBy && !isLapsed(heldBy, now)) return { acquired: false, heldBy };
    // Expired, unreadable, or its process is gone: replace exactly the version we read.
    if (await store.put(key, body, { ifMatch: current.etag, contentType: "application/json" }))
      return confirm(store, key, token, bodyFor);
  }
  return { acquired: false, heldBy };
}

/** Reads back the lease just written for its version token; someone else's by then means we lost it. */
async function confirm(
  store: ObjectStore,
  key: string,
  token: string,
  bodyFor: (at: Date, ttl: number) => string,
): Promise<LeaseOutcome> {
  const written = await store.getVersioned(key);
  const body = written ? parseLease(written.body) : null;
  if (!written || body?.token !== token) return { acquired: false, heldBy: body };
  let etag = written.etag;
  let expiresAt = body.expiresAt;
  const lease: Lease = {
    key,
    get expiresAt() {
      return expiresAt;
    },
    async renew(now, ttlMs) {
      const next = bodyFor(now, ttlMs);
      if (!(await store.put(key, next, { ifMatch: etag, contentType: "application/json" }))) return false;
      const renewed = await store.getVersioned(key);
      const renewedBody = renewed ? parseLease(renewed.body) : null;
      if (!renewed || renewedBody?.token !== token) return false;
      etag = renewed.etag;
      expiresAt = renewedBody.expiresAt;
      return true;
    },
    release: () => store.delete(key, { ifMatch: etag }),
  };
  return { acquired: true, lease };
}

function parseLease(bytes: Uint8Array): LeaseBody | null {
  try {
    const parsed = LeaseBodySchema.safeParse(JSON.parse(Buffer.from(bytes).toString("utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function isLapsed(lease: LeaseBody, now: Date): boolean {
  if (Date.parse(lease.expiresAt) <= now.getTime()) return true;
  return lease.process !== undefined && isGoneLocalProcess(lease.process);
}

/** A process named by a lease from this host that no longer exists (kill -9, a crash, a reboot). */
function isGoneLocalProcess(owner: { readonly host: string; readonly pid: number }): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return !(e instanceof Error && "code" in e && e.code === "EPERM");
  }
}
