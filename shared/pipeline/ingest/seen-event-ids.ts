import type { Source } from "../../domain/events/normalized-event.ts";
import { keys } from "../../store/keys.ts";
import { readNdjsonGz } from "../../store/ndjson-gzip.ts";
import type { ObjectStore } from "../../store/object-store.ts";

/**
 * Which event ids each stored events object of a partition holds, read from the objects themselves (the
 * truth, so there is no index to drift) and cached for the rest of the run. Events are deduplicated by id
 * against every *other* object of the partition: re-writing a batch's own object replaces it whole, which
 * keeps a re-run of the same window idempotent.
 */
export class SeenEventIds {
  private readonly partitions = new Map<string, Map<string, Set<string>>>();

  constructor(private readonly store: ObjectStore) {}

  /** ids by object key for one (source, dt) partition. */
  async partition(source: Source, dt: string): Promise<Map<string, Set<string>>> {
    const cacheKey = `${source}/${dt}`;
    const cached = this.partitions.get(cacheKey);
    if (cached) return cached;
    const byKey = new Map<string, Set<string>>();
    for await (const obj of this.store.list(keys.eventsPartition(source, dt))) {
      if (!obj.key.endsWith(".ndjson.gz")) continue;
      const ids = new Set<string>();
      for await (const { value } of readNdjsonGz(this.store, obj.key)) {
        const id = (value as { id?: unknown } | null)?.id;
        if (typeof id === "string") ids.add(id);
      }
      byKey.set(obj.key, ids);
    }
    this.partitions.set(cacheKey, byKey);
    return byKey;
  }

  /** Records what an object now holds after this run wrote it. */
  replace(source: Source, dt: string, key: string, ids: Set<string>): void {
    const byKey = this.partitions.get(`${source}/${dt}`);
    if (ids.size === 0) byKey?.delete(key);
    else byKey?.set(key, ids);
  }
}
