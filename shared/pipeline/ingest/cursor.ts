import * as z from "zod";
import { keys } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";

/** Where a source's next fetch starts: everything before `position` is durably written. */
export const CursorSchema = z.object({
  sourceId: z.string(),
  position: z.iso.datetime({ offset: true }),
  /** The batch whose write let the cursor move here (for audits). */
  lastBatch: z.string(),
});
export type Cursor = z.infer<typeof CursorSchema>;

/** Clocks of successive runs may disagree a little; a cursor further ahead than this is wrong. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * The source's cursor, or null when it has none yet. A cursor that cannot be read, or that points into the
 * future (the source would never be fetched again: a silent stall), is an error naming the object and what to
 * do; the source's run then fails and says so.
 */
export async function readCursor(store: ObjectStore, sourceId: string, now: Date): Promise<Cursor | null> {
  const key = keys.cursor(sourceId);
  const body = await store.get(key);
  if (!body) return null;
  const remedy = `fix its "position" (where the next fetch starts), or delete it to fetch again from the source's startAt (events already stored are not stored twice)`;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch (e) {
    throw new Error(
      `cursor ${key} in ${store.location} is damaged: not JSON (${(e as Error).message}); ${remedy}`,
    );
  }
  const parsed = CursorSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `cursor ${key} in ${store.location} is damaged: ${issue?.path.join(".") || "top level"}: ${issue?.message}; ${remedy}`,
    );
  }
  if (Date.parse(parsed.data.position) > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw new Error(
      `cursor ${key} in ${store.location} says the next fetch starts at ${parsed.data.position}, after now (${now.toISOString()}): nothing would ever be fetched; ${remedy}`,
    );
  }
  return parsed.data;
}

/** Call only after the data up to `position` is written. */
export async function writeCursor(store: ObjectStore, cursor: Cursor): Promise<void> {
  await store.put(keys.cursor(cursor.sourceId), `${JSON.stringify(cursor, null, 2)}\n`, {
    contentType: "application/json",
  });
}
