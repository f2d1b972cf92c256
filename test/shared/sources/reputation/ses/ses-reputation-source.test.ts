import { afterEach, describe, expect, it } from "vitest";
import { ReputationSignalSchema } from "../../../../../shared/domain/reputation/reputation-signal.ts";
import { PartialCollectError } from "../../../../../shared/sources/reputation/reputation-source.ts";
import {
  SesReputationError,
  SesReputationSource,
} from "../../../../../shared/sources/reputation/ses/ses-reputation-source.ts";
import {
  cloudWatchTestClient,
  type SesReputationServer,
  sesv2TestClient,
  startSesReputationServer,
} from "../../../../support/ses-reputation-server.ts";

const NOW = new Date("2026-09-18T15:20:00Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);

let server: SesReputationServer | null = null;

afterEach(async () => {
  await server?.stop();
  server = null;
});

function sourceFor(s: SesReputationServer, configurationSets?: string[]): SesReputationSource {
  return new SesReputationSource({
    region: "eu-west-1",
    sesv2: sesv2TestClient(s),
    cloudwatch: cloudWatchTestClient(s),
    ...(configurationSets ? { configurationSets } : {}),
  });
}

function bySubjectAndMetric(signals: readonly { subject: string; metric: string }[]) {
  return new Map(signals.map((s) => [`${s.subject} ${s.metric}`, s]));
}

describe("SesReputationSource", () => {
  it("reads an account under review, a warning bounce rate and no complaint datapoints", async () => {
    server = await startSesReputationServer({
      account: {
        EnforcementStatus: "PROBATION",
        SendingEnabled: true,
        ProductionAccessEnabled: true,
        SendQuota: { Max24HourSend: 200000, MaxSendRate: 50, SentLast24Hours: 81234 },
      },
      metrics: [
        {
          metricName: "Reputation.BounceRate",
          points: [
            { timestamp: hoursAgo(30), value: 0.2 }, // outside the 24 h window
            { timestamp: hoursAgo(3), value: 0.012 },
            { timestamp: new Date("2026-09-18T14:00:00Z"), value: 0.031 },
          ],
        },
      ],
    });
    const signals = await sourceFor(server).collect(NOW);

    for (const s of signals) expect(ReputationSignalSchema.parse(s)).toEqual(s);
    expect(signals.every((s) => s.source === "ses" && s.subjectKind === "account" && s.day === null)).toBe(
      true,
    );
    expect(signals.every((s) => s.observedAt === NOW.toISOString())).toBe(true);
    const got = bySubjectAndMetric(signals);
    expect(got.size).toBe(4);
    expect(got.get("ses:eu-west-1 enforcement_status")).toMatchObject({
      status: "bad",
      value: "PROBATION",
      detail: expect.stringContaining("under review"),
    });
    expect(got.get("ses:eu-west-1 sending_enabled")).toMatchObject({ status: "good", value: "true" });
    expect(got.get("ses:eu-west-1 bounce_rate")).toMatchObject({
      status: "warning",
      value: 0.031,
      detail: expect.stringMatching(/3\.1%.*2%.*2026-09-18T14:00:00\.000Z/),
    });
    expect(got.get("ses:eu-west-1 complaint_rate")).toMatchObject({
      status: "no_data",
      value: null,
      detail: expect.stringContaining("CloudWatch has no value until the account's first complaint"),
    });

    // One signed call each; CloudWatch asked for the last 24 h, hourly averages, account-wide (no dimensions).
    expect(server.requests.map((r) => [r.operation, r.signed, r.status])).toEqual(
      expect.arrayContaining([
        ["GetAccount", true, 200],
        ["GetMetricData", true, 200],
      ]),
    );
    const cw = server.requests.find((r) => r.operation === "GetMetricData")?.body as {
      StartTime: number;
      EndTime: number;
      MetricDataQueries: Array<{ MetricStat: { Period: number; Metric: { Dimensions?: unknown[] } } }>;
    };
    expect(cw.EndTime - cw.StartTime).toBe(24 * 3600);
    expect(cw.MetricDataQueries).toHaveLength(2);
    expect(cw.MetricDataQueries.every((q) => q.MetricStat.Period === 3600)).toBe(true);
  });

  it("reads shutdown, disabled sending and configuration-set rates", async () => {
    server = await startSesReputationServer({
      account: { EnforcementStatus: "SHUTDOWN", SendingEnabled: false, ProductionAccessEnabled: true },
      metrics: [
        { metricName: "Reputation.BounceRate", points: [{ timestamp: hoursAgo(2), value: 0.004 }] },
        { metricName: "Reputation.ComplaintRate", points: [{ timestamp: hoursAgo(2), value: 0.0002 }] },
        {
          metricName: "Reputation.BounceRate",
          configurationSet: "marketing",
          points: [{ timestamp: hoursAgo(1), value: 0.07 }],
        },
        {
          metricName: "Reputation.ComplaintRate",
          configurationSet: "marketing",
          points: [{ timestamp: hoursAgo(1), value: 0.0012 }],
        },
      ],
    });
    const got = bySubjectAndMetric(await sourceFor(server, ["marketing", "receipts"]).collect(NOW));

    expect(got.get("ses:eu-west-1 enforcement_status")).toMatchObject({
      status: "bad",
      detail: expect.stringContaining("sending is paused"),
    });
    expect(got.get("ses:eu-west-1 sending_enabled")).toMatchObject({ status: "bad", value: "false" });
    expect(got.get("ses:eu-west-1 bounce_rate")).toMatchObject({ status: "good", value: 0.004 });
    expect(got.get("ses:eu-west-1 complaint_rate")).toMatchObject({ status: "good", value: 0.0002 });
    const marketing = "ses:eu-west-1:configuration-set/marketing";
    expect(got.get(`${marketing} bounce_rate`)).toMatchObject({ status: "bad", value: 0.07 });
    expect(got.get(`${marketing} complaint_rate`)).toMatchObject({ status: "warning", value: 0.0012 });
    const receipts = "ses:eu-west-1:configuration-set/receipts";
    expect(got.get(`${receipts} bounce_rate`)).toMatchObject({
      status: "no_data",
      detail: expect.stringContaining("ReputationMetricsEnabled"),
    });
  });

  it("names the missing ses:GetAccount permission when SES refuses the credentials", async () => {
    server = await startSesReputationServer();
    server.failNext("GetAccount", {
      status: 403,
      type: "AccessDeniedException",
      message:
        "User: arn:aws:sts::123456789012:assumed-role/bounce-radar/fn is not authorized to perform: ses:GetAccount",
    });
    const err = await sourceFor(server)
      .collect(NOW)
      .then(
        () => null,
        (e: unknown) => e,
      );
    // The CloudWatch rates were read: kept with the failure.
    expect(err).toBeInstanceOf(PartialCollectError);
    const fault = (err as PartialCollectError).fault;
    expect(fault).toBeInstanceOf(SesReputationError);
    expect(fault).toMatchObject({ operation: "GetAccount", permission: "ses:GetAccount" });
    expect((err as Error).message).toMatch(
      /refused \(AccessDeniedException.*need the IAM permission ses:GetAccount/,
    );
    expect((err as Error).message).not.toContain("test-secret");
    expect((err as PartialCollectError).signals.map((x) => x.metric)).toEqual([
      "bounce_rate",
      "complaint_rate",
    ]);
  });

  it("names cloudwatch:GetMetricData when CloudWatch refuses", async () => {
    server = await startSesReputationServer();
    server.failNext("GetMetricData", {
      status: 403,
      type: "AccessDenied",
      message: "not authorized to perform: cloudwatch:GetMetricData",
    });
    const err = await sourceFor(server)
      .collect(NOW)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect((err as PartialCollectError).fault).toMatchObject({
      name: "SesReputationError",
      permission: "cloudwatch:GetMetricData",
    });
    // The account status was read: kept with the failure, never a clean rate.
    expect((err as PartialCollectError).signals.map((x) => x.metric)).toEqual([
      "enforcement_status",
      "sending_enabled",
    ]);
  });

  it("fails on a server error instead of reporting no data", async () => {
    server = await startSesReputationServer();
    server.failNext("GetMetricData", { status: 500, type: "InternalServiceError", message: "boom" });
    await expect(sourceFor(server).collect(NOW)).rejects.toThrow(
      /CloudWatch GetMetricData in eu-west-1 failed/,
    );
  });
});
