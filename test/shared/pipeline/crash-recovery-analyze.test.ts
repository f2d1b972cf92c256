import { cp } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { LocalObjectStore } from "../../../shared/store/local-object-store.ts";
import {
  analyse,
  checkKillPoints,
  comparable,
  eventIds,
  freshFolder,
  history,
} from "../../support/crash-recovery.ts";
import { storeHistory } from "../../support/store-history.ts";

describe("a run cut at any of its writes, then rerun, ends as a clean run", () => {
  let analyzeTemplate: string;
  beforeAll(async () => {
    analyzeTemplate = await freshFolder();
    await storeHistory(new LocalObjectStore(analyzeTemplate), history.events, "crash-history");
  });

  it("analyze: recipient history and aggregates survive a crash at any write", async () => {
    const prepare = async () => {
      const dir = await freshFolder();
      await cp(analyzeTemplate, dir, { recursive: true });
      return dir;
    };
    const points = await checkKillPoints(
      prepare,
      (store) => analyse(store, history.zone),
      async (store) => ({
        ids: await eventIds(store),
        report: comparable(await analyse(store, history.zone)),
      }),
    );
    expect(points.length).toBeGreaterThanOrEqual(20);
  }, 300_000);
});
