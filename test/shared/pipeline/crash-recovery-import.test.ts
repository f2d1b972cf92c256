import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importInto } from "../../../cli/commands/import.ts";
import type { ProviderEvent } from "../../../shared/domain/events/normalized-event.ts";
import { toMailgunEvent } from "../../../shared/simulation/to-mailgun-event.ts";
import {
  checkKillPoints,
  freshFolder,
  history,
  InjectedFailure,
  outcomeOf,
  RECENT_START,
  SENDER,
} from "../../support/crash-recovery.ts";

describe("a run cut at any of its writes, then rerun, ends as a clean run", () => {
  it("import: a Mailgun export cut at any write imports every event once", async () => {
    const exportDir = await freshFolder();
    const files: string[] = [];
    // Three files of pages, as saved from the Events API: one batch each.
    for (let f = 0; f < 3; f++) {
      const events = history.events.filter(
        (e, i) => i % 3 === f && e.occurredAt >= RECENT_START.toISOString(),
      );
      const lines: string[] = [];
      for (let i = 0; i < events.length; i += 300)
        lines.push(
          JSON.stringify({
            items: events.slice(i, i + 300).map((e: ProviderEvent) => toMailgunEvent(e, SENDER)),
          }),
        );
      const path = join(exportDir, `mailgun-${f}.ndjson`);
      await writeFile(path, `${lines.join("\n")}\n`);
      files.push(path);
    }
    const points = await checkKillPoints(
      freshFolder,
      async (store) => {
        const summary = await importInto(store, "mailgun", files, () => undefined);
        if (summary.unreadable > 0) throw new InjectedFailure("a file failed to import");
      },
      outcomeOf,
    );
    expect(points.length).toBeGreaterThanOrEqual(20);
  }, 300_000);
});
