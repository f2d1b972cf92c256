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

export async function readCursor(store: ObjectStore, sourceId: string): Promise<Cursor | null> {
  const key = keys.cursor(sourceId);
  const body = await store.get(key);
  if (!body) return null;
  const parsed = CursorSchema.safeParse(JSON.parse(Buffer.from(body).toString("utf8")));
  if (!parsed.success)
    throw new Error(`${key} is corrupt: ${parsed.error.issues[0]?.message}; fix or delete it`);
  return parsed.data;
}

/** Call only after the data up to `position` is written. */
export async function writeCursor(store: ObjectStore, cursor: Cursor): Promise<void> {
  await store.put(keys.cursor(cursor.sourceId), `${JSON.stringify(cursor, null, 2)}\n`, {
    contentType: "application/json",
  });
}
