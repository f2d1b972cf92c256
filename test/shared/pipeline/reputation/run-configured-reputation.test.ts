import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../shared/config.ts";
import { GatewayLookup } from "../../../../shared/dns/gateway-lookup.ts";
import type { Report } from "../../../../shared/domain/report/report-schema.ts";
import { SignalBatchSchema } from "../../../../shared/domain/reputation/reputation-signal.ts";
import { runAnalysis } from "../../../../shared/pipeline/analyze/run-analysis.ts";
import {
  type ConfiguredReputationResult,
  runConfiguredReputation,
} from "../../../../shared/pipeline/reputation/run-reputation.ts";
import { LocalSecretResolver } from "../../../../shared/secrets/secret-resolver.ts";
import { generateHistory } from "../../../../shared/simulation/b2b-history.ts";
import { ZoneMxResolver } from "../../../../shared/simulation/zone-mx-resolver.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { type DnsServer, startDnsServer } from "../../../support/dns-server.ts";
import { type PostmasterServer, startPostmasterServer } from "../../../support/postmaster-server.ts";
import {
  type SendgridReputationServer,
  startSendgridReputationServer,
} from "../../../support/sendgrid-reputation-server.ts";
import {
  type SesReputationServer,
  startSesReputationServer,
} from "../../../support/ses-reputation-server.ts";
import { type SndsServer, startSndsServer } from "../../../support/snds-server.ts";
import {
  type SparkpostSignalsServer,
  startSparkpostSignalsServer,
} from "../../../support/sparkpost-signals-server.ts";
import { storeHistory } from "../../../support/store-history.ts";

const DAY = 86_400_000;
const SECRETS = {
  postmaster: JSON.stringify({
    client_id: "test-client.apps.example",
    client_secret: "test-client-secret-5b1",
    refresh_token: "1//test-refresh-token-9f2",
  }),
  snds: "00000000-test-snds-key-000000000000",
  sendgrid: "SG.test-configured-key",
  sparkpost: "test-sparkpost-key-31",
};

// Every configured reputation source run at once, each against a local server speaking its contract: the
// sources that answer are stored and weighed; two that fail (a refused SendGrid key, a SparkPost account
// without Signals) are stored as failed, reported in dataQuality, and stop nothing else.
describe("every reputation source in one run, one failing independently of the others", () => {
  const start = new Date("2026-10-01T00:00:00.000Z");
  const end = new Date(start.getTime() + 35 * DAY);
  const now = new Date(end.getTime() - 3_600_000);
  const env = { ...process.env };
  let dns: DnsServer;
  let postmaster: PostmasterServer;
  let snds: SndsServer;
  let ses: SesReputationServer;
  let sendgrid: SendgridReputationServer;
  let sparkpost: SparkpostSignalsServer;
  let store: LocalObjectStore;
  let run: ConfiguredReputationResult;
  let report: Report;
  const logs: string[] = [];

  beforeAll(async () => {
    const history = generateHistory({
      seed: 33,
      start,
      days: 35,
      organisations: 80,
      incidents: [{ kind: "gateway_policy_change", at: new Date(end.getTime() - DAY) }],
    });
    const domain = history.senderDomain;
    const ips = history.sendingIps;
    const days = Array.from({ length: 7 }, (_, i) =>
      new Date(now.getTime() - (i + 1) * DAY).toISOString().slice(0, 10),
    );
    postmaster = await startPostmasterServer({
      clientId: "test-client.apps.example",
      clientSecret: "test-client-secret-5b1",
      refreshToken: "1//test-refresh-token-9f2",
      domains: [domain],
      // Google has no data for the third day back (under its volume floor).
      stats: days
        .filter((_, i) => i !== 2)
        .flatMap((date) => [
          { domain, standardMetric: "SPAM_RATE", date, value: { floatValue: 0.0004 } },
          {
            domain,
            standardMetric: "AUTH_SUCCESS_RATE",
            filter: 'auth_type = "dkim"',
            date,
            value: { floatValue: 0.999 },
          },
        ]),
      compliance: {
        [domain]: { domainId: domain, rowData: [{ requirement: "SPF", status: { status: "COMPLIANT" } }] },
      },
    });
    const sndsDay = new Date(now.getTime() - 2 * DAY);
    const mmddyy = `${String(sndsDay.getUTCMonth() + 1).padStart(2, "0")}${String(sndsDay.getUTCDate()).padStart(2, "0")}${String(sndsDay.getUTCFullYear() % 100).padStart(2, "0")}`;
    const us = `${sndsDay.getUTCMonth() + 1}/${sndsDay.getUTCDate()}/${sndsDay.getUTCFullYear()}`;
    snds = await startSndsServer({
      key: SECRETS.snds,
      data: {
        [mmddyy]:
          ips
            .map(
              (ip) =>
                `${ip},${us} 12:00 AM,${us} 11:59 PM,1200,1200,1198,GREEN,< 0.1%,,,0,mta.esp.example,bounce@${domain},\r\n`,
            )
            .join("") +
          // One row SNDS got wrong: left out and counted, the others still read.
          `192.0.2.99,${us} 12:00 AM,${us} 11:59 PM,1200,1200,1198,PURPLE,< 0.1%,,,0,mta.esp.example,bounce@${domain},\r\n`,
      },
    });
    ses = await startSesReputationServer({
      metrics: [
        {
          metricName: "Reputation.BounceRate",
          points: [{ timestamp: new Date(now.getTime() - 3_600_000), value: 0.008 }],
        },
      ],
    } as Parameters<typeof startSesReputationServer>[0]);
    sendgrid = await startSendgridReputationServer({ apiKey: "SG.a-different-key" });
    sparkpost = await startSparkpostSignalsServer({ apiKey: SECRETS.sparkpost, signalsEnabled: false });
    dns = await startDnsServer({
      [domain]: { txt: [`v=spf1 ip4:${ips[0]} -all`] },
      [`_dmarc.${domain}`]: { txt: ["v=DMARC1; p=quarantine; rua=mailto:dmarc@quillfeather-app.com"] },
      [`_mta-sts.${domain}`]: { txt: ["v=STSv1; id=20260101"] },
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: ses.endpoint,
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "test-secret",
      AWS_MAX_ATTEMPTS: "1",
    });

    const config = parseConfig({
      reputation: {
        blocklists: [],
        // An IPv6 sending IP too: SNDS (IPv4 only) leaves it out rather than failing.
        sendingIps: [...ips, "2001:DB8::25"],
        sendingDomains: [domain],
        lookbackDays: 0,
        dnsServers: [dns.address],
        dnsTimeoutMs: 500,
        postmaster: {
          credentialsSecret: "postmaster/oauth",
          baseUrl: postmaster.baseUrl,
          tokenUrl: postmaster.tokenUrl,
        },
        snds: { keySecret: "snds/key", baseUrl: snds.baseUrl },
        ses: { regions: ["eu-west-1"] },
        sendgrid: { apiKeySecret: "sendgrid/key", baseUrl: sendgrid.baseUrl },
        sparkpost: { apiKeySecret: "sparkpost/key", baseUrl: sparkpost.baseUrl },
        authentication: { dkimSelectors: [] },
      },
    });
    if (!config.reputation) throw new Error("no reputation config");
    store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-configured-reputation-")));
    await storeHistory(store, history.events, "history-33");
    run = await runConfiguredReputation(config.reputation, {
      store,
      secrets: new LocalSecretResolver({
        BOUNCE_RADAR_SECRET_POSTMASTER_OAUTH: SECRETS.postmaster,
        BOUNCE_RADAR_SECRET_SNDS_KEY: SECRETS.snds,
        BOUNCE_RADAR_SECRET_SENDGRID_KEY: SECRETS.sendgrid,
        BOUNCE_RADAR_SECRET_SPARKPOST_KEY: SECRETS.sparkpost,
      }),
      now: () => now,
      log: (line) => logs.push(line),
      http: { sleep: async () => undefined, maxAttempts: 2 },
    });
    const gateways = new GatewayLookup(new ZoneMxResolver(history.zone), store, { now: () => end });
    await gateways.load();
    report = (
      await runAnalysis(
        { at: end, windowHours: 24, baselineDays: 28, maskRecipients: true },
        { store, gateways, now: () => end, log: () => undefined },
      )
    ).report;
  }, 120_000);

  afterAll(async () => {
    process.env = env;
    await Promise.all([
      dns?.stop(),
      postmaster?.stop(),
      snds?.stop(),
      ses?.stop(),
      sendgrid?.stop(),
      sparkpost?.stop(),
    ]);
  });

  it("runs every source, and the two failures stop neither each other nor the rest", () => {
    const outcomes = Object.fromEntries(run.sources.map((s) => [s.source, s.outcome]));
    expect(outcomes).toEqual({
      postmaster: "ok",
      snds: "ok",
      ses: "ok",
      sendgrid: "failed",
      sparkpost: "failed",
      auth: "ok",
    });
    expect(run.blocklists).toBeNull();
    const failures = run.sources.filter((s) => s.outcome === "failed").map((s) => s.error ?? "");
    expect(failures[0]).toMatch(/SendGrid.*(401|refused)/i);
    expect(failures[1]).toMatch(/Signals/);
    for (const line of [...logs, ...failures]) {
      for (const secret of Object.values(SECRETS)) expect(line).not.toContain(secret);
      expect(line).not.toContain("test-refresh-token");
    }
  });

  it("stores one batch per source, failed ones with their error, and a no-data day as no_data, never zero", async () => {
    for (const s of run.sources) {
      const body = await store.get(s.key);
      const batch = SignalBatchSchema.parse(JSON.parse(Buffer.from(body ?? "").toString("utf8")));
      expect(batch).toMatchObject({ source: s.source, outcome: s.outcome });
      if (s.outcome === "failed") expect(batch.signals).toEqual([]);
    }
    const pm = run.sources.find((s) => s.source === "postmaster");
    const batch = SignalBatchSchema.parse(
      JSON.parse(Buffer.from((await store.get(pm?.key ?? "")) ?? "").toString("utf8")),
    );
    const spam = batch.signals.filter((s) => s.metric === "spam_rate");
    expect(spam).toHaveLength(7);
    const missing = spam.filter((s) => s.status === "no_data");
    expect(missing).toHaveLength(1);
    expect(missing[0]?.value).toBeNull();
  });

  it("reports each source's last run in dataQuality, the failures named", () => {
    const runs = report.dataQuality.reputationSources ?? [];
    expect(runs.map((r) => `${r.source} ${r.outcome}`)).toEqual([
      "auth ok",
      "postmaster ok",
      "sendgrid failed",
      "ses ok",
      "snds ok",
      "sparkpost failed",
    ]);
    expect(runs.find((r) => r.source === "sendgrid")).toMatchObject({ lastSuccessAt: null });
    // A bad row fails that row, not the source: counted in dataQuality.
    expect(runs.find((r) => r.source === "snds")).toMatchObject({ outcome: "ok", badRows: 1 });
    expect(runs.find((r) => r.source === "postmaster")?.badRows).toBeUndefined();
    expect(run.sources.find((r) => r.source === "snds")?.badRows).toBe(1);
    expect(runs.find((r) => r.source === "sparkpost")?.error).toMatch(/Signals/);
  });

  it("weighs the steady, healthy values as recipient-side evidence, with their numbers", () => {
    const incident = report.incidents.find((i) => i.alert);
    expect(incident).toMatchObject({ verdict: "recipient_filter", side: "recipient" });
    const cited = incident?.evidence.filter((e) => e.signal === "reputation").map((e) => e.detail) ?? [];
    expect(cited).toHaveLength(1);
    expect(cited[0]).toMatch(/^\d+ reputation value\(s\) steady and healthy/);
    expect(cited[0]).toMatch(/0\.04%/);
    const sources = new Set(report.reputation.map((r) => r.source));
    for (const s of ["postmaster", "snds", "ses", "auth"]) expect(sources).toContain(s);
  });
});
