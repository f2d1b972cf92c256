import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SignalBatchSchema } from "../../../../shared/domain/reputation/reputation-signal.ts";
import { runSignalSources } from "../../../../shared/pipeline/reputation/run-signal-sources.ts";
import { SendgridReputationSource } from "../../../../shared/sources/reputation/sendgrid/sendgrid-reputation-source.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import {
  type SendgridReputationServer,
  startSendgridReputationServer,
} from "../../../support/sendgrid-reputation-server.ts";

const KEY = "SG.test-key-for-bad-rows";
const NOW = new Date("2026-09-18T10:00:00Z");

let server: SendgridReputationServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

async function run(s: SendgridReputationServer) {
  const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-signal-sources-")));
  const logs: string[] = [];
  const source = new SendgridReputationSource({
    apiKey: KEY,
    region: "global",
    baseUrl: s.baseUrl,
    lookbackDays: 3,
    sleep: async () => undefined,
    maxAttempts: 2,
  });
  const [result] = await runSignalSources([source], { store, now: () => NOW, log: (l) => logs.push(l) });
  if (!result) throw new Error("no run");
  const body = await store.get(result.key);
  const batch = SignalBatchSchema.parse(JSON.parse(Buffer.from(body ?? "").toString("utf8")));
  return { result, batch, logs };
}

describe("runSignalSources: a bad row fails that row, not the source", () => {
  it("leaves out a SendGrid Engagement Quality row without a date, counts it, and keeps the rest", async () => {
    // SendGrid's own schema (tsg_seq_v3.json) requires only user_id: date is optional.
    server = await startSendgridReputationServer({
      apiKey: KEY,
      account: { type: "paid", reputation: 97 },
      seq: {
        result: [
          {
            user_id: "180",
            username: "jdoe123",
            date: "2026-09-16",
            score: 2,
            metrics: { bounce_classification: 1 },
          },
          { user_id: "180", username: "jdoe123", score: 4 },
          {
            user_id: "180",
            username: "jdoe123",
            date: "2026-09-17",
            score: 4,
            metrics: { bounce_classification: 5 },
          },
        ],
      },
    });
    const { result, batch, logs } = await run(server);

    expect(result).toMatchObject({ outcome: "ok", badRows: 1 });
    expect(batch.outcome).toBe("ok");
    expect(batch.badRowCount).toBe(1);
    expect(batch.badRows).toEqual([
      { where: "engagementquality/scores result[1]", reason: expect.stringMatching(/^date: /) },
    ]);
    const values = batch.signals.map((s) => `${s.metric} ${s.day} ${s.status} ${s.value}`);
    expect(values).toEqual([
      "reputation null good 97",
      "seq_score 2026-09-15 no_data null",
      "seq_bounce_classification 2026-09-15 no_data null",
      "seq_score 2026-09-16 bad 2",
      "seq_bounce_classification 2026-09-16 bad 1",
      "seq_score 2026-09-17 good 4",
      "seq_bounce_classification 2026-09-17 good 5",
    ]);
    expect(logs.some((l) => /sendgrid: 1 row\(s\) of the answer could not be read/.test(l))).toBe(true);
  });

  it("keeps the account reputation already read when the Engagement Quality request fails", async () => {
    server = await startSendgridReputationServer({ apiKey: KEY, account: { type: "paid", reputation: 72 } });
    for (let i = 0; i < 2; i++) server.failNext("/v3/engagementquality/scores", { status: 500 });
    const { result, batch } = await run(server);

    expect(result.outcome).toBe("failed");
    expect(batch.error).toMatch(/SendGrid/);
    expect(batch.signals.map((s) => `${s.metric} ${s.status} ${s.value}`)).toEqual(["reputation bad 72"]);
  });
});
