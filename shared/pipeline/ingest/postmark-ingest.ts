import type { PostmarkSourceConfig } from "../../config.ts";
import type { SecretResolver } from "../../secrets/secret-resolver.ts";
import { mapPostmarkRecord } from "../../sources/esp/postmark/map-postmark-bounce.ts";
import { PostmarkClient } from "../../sources/esp/postmark/postmark-client.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import type { BatchResult } from "./ingest-batch.ts";
import type { SeenEventIds } from "./seen-event-ids.ts";
import { type FetchedPage, ingestWindowed } from "./windowed-ingest.ts";

export interface PostmarkIngestDeps {
  readonly store: ObjectStore;
  readonly secrets: SecretResolver;
  readonly now: () => Date;
  readonly log: (message: string) => void;
  readonly shouldStop?: () => boolean;
  readonly onProgress?: (sourceId: string, position: Date) => void;
  readonly httpOptions?: { readonly sleep?: (ms: number) => Promise<void>; readonly maxAttempts?: number };
}

/**
 * Postmark's Bounces API, window by window behind the cursor (the client keeps each query under Postmark's
 * 10,000 count+offset ceiling by splitting the window). Bounces only: Postmark's pull APIs have no
 * per-recipient delivery, so the denominator comes from imported Delivery webhook records, if any.
 */
export async function ingestPostmark(
  source: PostmarkSourceConfig,
  deps: PostmarkIngestDeps,
  seen: SeenEventIds,
  out: BatchResult[],
): Promise<void> {
  const token = await deps.secrets.resolve(source.serverTokenSecret);
  deps.log(`${source.id}: Postmark server token from ${token.origin}`);
  const client = new PostmarkClient({
    serverToken: token.value,
    timeoutMs: source.timeoutMs,
    ...(source.baseUrl ? { baseUrl: source.baseUrl } : {}),
    ...deps.httpOptions,
  });
  await ingestWindowed(
    {
      ...source,
      provider: "postmark",
      // Postmark keeps bounces for 45 days; a day back is where a new source starts.
      firstRunLookbackMinutes: 24 * 60,
      fetchWindow: async (begin, end) => {
        const pages: FetchedPage[] = [];
        for await (const p of client.bouncePages({ start: begin, end })) pages.push(p);
        return pages;
      },
      mapper: mapPostmarkRecord,
    },
    deps,
    seen,
    out,
  );
}
