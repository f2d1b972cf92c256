import { describe, expect, it } from "vitest";
import type { MailgunSourceConfig } from "../../../shared/config.ts";
import { runIngest } from "../../../shared/pipeline/ingest/run-ingest.ts";
import { startMailgunServer } from "../../../shared/simulation/mailgun-api-server.ts";
import { toMailgunEvent } from "../../../shared/simulation/to-mailgun-event.ts";
import {
  checkKillPoints,
  END,
  freshFolder,
  history,
  InjectedFailure,
  outcomeOf,
  RECENT_START,
  SENDER,
} from "../../support/crash-recovery.ts";

describe("a run cut at any of its writes, then rerun, ends as a clean run", () => {
  it("ingest: the Mailgun connector cut at any write stores every event once", async () => {
    const apiKey = "key-crash-test";
    const esp = await startMailgunServer({
      apiKey,
      domains: [SENDER],
      events: history.events
        .filter((e) => e.occurredAt >= RECENT_START.toISOString())
        .map((e) => toMailgunEvent(e, SENDER)),
    });
    try {
      const source: MailgunSourceConfig = {
        id: "mg-crash",
        provider: "mailgun",
        region: "us",
        api: "events",
        domains: [SENDER],
        apiKeySecret: "mailgun/api-key",
        startAt: RECENT_START.toISOString(),
        lagMinutes: 30,
        overlapMinutes: 30,
        windowMinutes: 24 * 60,
        baseUrl: esp.baseUrl,
        timeoutMs: 30_000,
      };
      const points = await checkKillPoints(
        freshFolder,
        async (store) => {
          const results = await runIngest([source], {
            store,
            secrets: { resolve: async () => ({ value: apiKey, origin: "test" }) },
            now: () => new Date(END.getTime() + 31 * 60_000),
            log: () => undefined,
            sqsQueue: () => {
              throw new Error("no SES source");
            },
          });
          const failed = results.find((r) => r.error);
          if (failed) throw new InjectedFailure(failed.error);
        },
        outcomeOf,
      );
      expect(points.length).toBeGreaterThanOrEqual(20);
    } finally {
      await esp.stop();
    }
  }, 300_000);
});
