import * as z from "zod";
import type { ObjectStore } from "./object-store.ts";

// Only the expiry decides; the holder is for people reading the object (older leases named it runId).
const LeaseSchema = z.looseObject({ expiresAt: z.iso.datetime() });

export interface Lease {
  release(): Promise<void>;
}

/**
 * A lease on one job, so two overlapping runs (a slow run and the next schedule, or a retry) never work
 * at once. Created with a conditional put (S3: If-None-Match: *, so exactly one creator wins; local folder:
 * an exclusive hard link). A lease whose holder died is broken once it expires. Null when another holder
 * has it.
 */
export async function acquireLease(
  store: ObjectStore,
  key: string,
  holder: string,
  now: Date,
  ttlMs: number,
): Promise<Lease | null> {
  const body = JSON.stringify({ holder, expiresAt: new Date(now.getTime() + ttlMs).toISOString() });
  const lease: Lease = { release: () => store.delete(key) };
  if (await store.put(key, body, { ifAbsent: true, contentType: "application/json" })) return lease;
  const existing = await store.get(key);
  let current: z.infer<typeof LeaseSchema> | null = null;
  try {
    current = existing ? LeaseSchema.parse(JSON.parse(Buffer.from(existing).toString("utf8"))) : null;
  } catch {
    current = null;
  }
  if (current && Date.parse(current.expiresAt) > now.getTime()) return null;
  // Expired or unreadable: break it, then compete again with a conditional put.
  await store.delete(key);
  return (await store.put(key, body, { ifAbsent: true, contentType: "application/json" })) ? lease : null;
}
