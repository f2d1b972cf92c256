import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config.ts";
import { ReportSchema } from "../../shared/domain/report/report-schema.ts";
import { generateHistory, type History, SENDER_DOMAIN } from "../../shared/simulation/b2b-history.ts";
import { type MailgunServer, startMailgunServer } from "../../shared/simulation/mailgun-api-server.ts";
import { toMailgunEvent } from "../../shared/simulation/to-mailgun-event.ts";
import { S3ObjectStore, s3ClientForEndpoint } from "../../shared/store/s3-object-store.ts";
import {
  type BundledStack,
  type FunctionName,
  type Invocation,
  synthBundledStack,
} from "../support/bundled-stack.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { type RunningS3rver, startS3rver } from "../support/s3rver.ts";
import { type SecretsManagerServer, startSecretsManagerServer } from "../support/secrets-manager-server.ts";
import {
  HEALTHY_ACCOUNT,
  type SesReputationServer,
  startSesReputationServer,
} from "../support/ses-reputation-server.ts";
import { type SnsServer, startSnsServer } from "../support/sns-server.ts";
import { webhookKeys, webhookRequest } from "../support/webhook-request.ts";

/*
 * The deployable artefacts, end to end: the stack is synthesized with bundling (the local esbuild, as `cdk
 * synth` does), and each function's bundle (index.mjs) runs in its own Node process with the environment the
 * stack gives it and the payload its EventBridge Scheduler schedule sends, against local S3, Secrets Manager,
 * SNS, Mailgun and DNS. The bundle runs from a folder without node_modules, so it must be self-contained.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:bounce-radar-alerts`;
const SECRET_NAME = "bounce-radar/mailgun-e2e";
const LISTED_IP = "198.51.100.10";
const API_KEY = "key-e2e-0123456789abcdef";

const WEBHOOK_KEYS = webhookKeys();
const WEBHOOK_PUBLIC_KEY = WEBHOOK_KEYS.publicKey;

describe("the bundled Lambda handlers, end to end", () => {
  let history: History;
  let end: Date;
  let start: Date;
  let stack: BundledStack;
  let s3: RunningS3rver;
  let mailgun: MailgunServer;
  let sns: SnsServer;
  let secrets: SecretsManagerServer;
  let dns: DnsServer;
  let sesReputation: SesReputationServer;
  let mailgunEventCount: number;

  beforeAll(async () => {
    end = new Date(Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR);
    start = new Date(end.getTime() - 35 * DAY);
    history = generateHistory({
      seed: 11,
      start,
      days: 35,
      organisations: 60,
      incidents: [{ kind: "gateway_user_unknown_one_org", at: new Date(end.getTime() - DAY) }],
    });
    const events = history.events.map((e) => toMailgunEvent(e, SENDER_DOMAIN));
    mailgunEventCount = events.length;
    sesReputation = await startSesReputationServer({
      account: { ...HEALTHY_ACCOUNT, EnforcementStatus: "PROBATION" },
    });
    [s3, mailgun, sns, secrets, dns] = await Promise.all([
      startS3rver(),
      startMailgunServer({ apiKey: API_KEY, domains: [SENDER_DOMAIN], events }),
      startSnsServer(),
      startSecretsManagerServer({ [SECRET_NAME]: API_KEY }),
      // The simulated world's MX records, plus a block list on which one sending IP is listed.
      startDnsServer({
        ...history.zone,
        // The sending domain's authentication records (no DMARC record: a finding).
        [SENDER_DOMAIN]: { ...history.zone[SENDER_DOMAIN], txt: ["v=spf1 include:mailgun.org ~all"] },
        [`${LISTED_IP.split(".").reverse().join(".")}.bl.e2e.example`]: {
          a: ["127.0.0.2"],
          txt: [`https://bl.e2e.example/lookup?ip=${LISTED_IP}`],
        },
      }),
    ]);

    const json = {
      sources: [
        {
          id: "mailgun-e2e",
          provider: "mailgun",
          api: "events",
          domains: [SENDER_DOMAIN],
          apiKeySecret: SECRET_NAME,
          startAt: start.toISOString(),
          windowMinutes: 1440,
          lagMinutes: 30,
          baseUrl: mailgun.baseUrl,
        },
        { id: "sendgrid-e2e", provider: "sendgrid", webhookPublicKey: WEBHOOK_PUBLIC_KEY },
      ],
      analysis: { dnsServers: [dns.address] },
      reputation: {
        blocklists: [],
        customBlocklists: [{ id: "bl-e2e", zone: "bl.e2e.example", targets: "ip" }],
        lookbackDays: 2,
        dnsServers: [dns.address],
        dnsTimeoutMs: 500,
        sendingDomains: [SENDER_DOMAIN],
        ses: { regions: [REGION] },
        authentication: { dkimSelectors: [] },
      },
    };
    stack = await synthBundledStack(
      parseConfig(json),
      { partition: "aws", region: REGION, account: ACCOUNT },
      { DataBucketData: s3.bucket, AlertsTopic: TOPIC_ARN },
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([
      s3?.stop(),
      mailgun?.stop(),
      sns?.stop(),
      secrets?.stop(),
      dns?.stop(),
      sesReputation?.stop(),
    ]);
    await stack?.dispose();
  });

  const schedulerEvent = (job: FunctionName, at: Date) => stack.schedulerEvent(job, at);

  function invoke(job: FunctionName, event: unknown): Promise<Invocation> {
    return stack.invoke(job, event, {
      // s3rver accepts only its own key pair; the other local servers check that requests are signed.
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_SESV2: sesReputation.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: sesReputation.endpoint,
    });
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const store = bucketStore();
    const keys: string[] = [];
    for await (const o of store.list(prefix)) keys.push(o.key);
    return keys;
  }

  function bucketStore(): S3ObjectStore {
    return new S3ObjectStore({
      bucket: s3.bucket,
      client: s3ClientForEndpoint(s3.endpoint, REGION, {
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      }),
    });
  }

  it("synthesizes three self-contained bundles and every schedule's payload", () => {
    expect([...stack.bundles.keys()].sort()).toEqual([
      "analyze",
      "ingest-events",
      "ingest-reputation",
      "sendgrid-webhook",
    ]);
    for (const b of stack.bundles.values()) {
      expect(existsSync(b.entry)).toBe(true);
      expect(existsSync(join(stack.outdir, "node_modules"))).toBe(false);
    }
    expect([...stack.payloads.keys()].sort()).toEqual(["analyze", "ingest-events", "ingest-reputation"]);
  });

  it("ingests every Mailgun event with the key from Secrets Manager, then analyses and alerts on the incident", async () => {
    // ── sendgrid-webhook: an unsigned batch is refused; a signed one lands once, however often delivered ──
    const at = Math.floor((end.getTime() - 5 * HOUR) / 1000);
    const batch = JSON.stringify([
      {
        email: "ana@webhook-e2e.example",
        timestamp: at,
        event: "delivered",
        sg_event_id: "e2e-ev-1",
        sg_message_id: "e2e-m1.filter0001",
        ip: "198.51.100.20",
        response: "250 2.0.0 OK",
      },
      {
        email: "bo@webhook-e2e.example",
        timestamp: at + 5,
        event: "bounce",
        type: "bounce",
        status: "5.1.1",
        reason: "550 5.1.1 <bo@webhook-e2e.example>: Recipient address rejected: User unknown",
        sg_event_id: "e2e-ev-2",
        sg_message_id: "e2e-m2.filter0001",
        ip: "198.51.100.20",
      },
    ]);
    const unsigned = await invoke("sendgrid-webhook", webhookRequest(batch, WEBHOOK_KEYS.privateKey, false));
    expect(unsigned.code, unsigned.stderr).toBe(0);
    expect((unsigned.result as { statusCode: number }).statusCode).toBe(401);
    expect(await keysUnder("raw/sendgrid/")).toEqual([]);
    for (let delivery = 0; delivery < 2; delivery++) {
      const hook = await invoke("sendgrid-webhook", webhookRequest(batch, WEBHOOK_KEYS.privateKey));
      expect(hook.code, hook.stderr).toBe(0);
      expect((hook.result as { statusCode: number }).statusCode).toBe(204);
    }
    expect(await keysUnder("raw/sendgrid/")).toHaveLength(1);

    // ── ingest-events ──
    const ingest = await invoke("ingest-events", schedulerEvent("ingest-events", new Date()));
    expect(ingest.code, ingest.stderr).toBe(0);
    const ingested = ingest.result as { skipped?: string; sources: Array<Record<string, unknown>> };
    expect(ingested.skipped).toBeUndefined();
    expect(ingested.sources.map((s) => s.id)).toEqual(["mailgun-e2e", "sendgrid-e2e"]);
    expect(ingested.sources[1]).toMatchObject({ added: 2 });
    const source = ingested.sources[0];
    expect(source?.id).toBe("mailgun-e2e");
    expect(source?.error).toBeUndefined();
    expect(source?.added).toBe(mailgunEventCount);

    expect(
      secrets.requests.some(
        (r) => r.target === "secretsmanager.GetSecretValue" && r.secretId === SECRET_NAME,
      ),
    ).toBe(true);
    expect(secrets.requests.every((r) => r.status === 200 && r.signed)).toBe(true);
    expect((await keysUnder("events/source=mailgun/")).length).toBeGreaterThan(0);
    expect((await keysUnder("state/cursors/")).length).toBeGreaterThan(0);
    expect(await keysUnder("state/leases/")).toEqual([]);
    // Powertools EMF on stdout.
    expect(ingest.stdout.split("\n").some((l) => l.includes('"_aws"') && l.includes("IngestSucceeded"))).toBe(
      true,
    );
    expect(ingest.stdout).not.toContain(API_KEY);

    // ── ingest-reputation: the IPs that sent in the last two days, against the loopback block list ──
    const reputation = await invoke("ingest-reputation", schedulerEvent("ingest-reputation", new Date()));
    expect(reputation.code, reputation.stderr).toBe(0);
    const checked = reputation.result as { key?: string; checks?: number; listed?: number; unknown?: number };
    expect(checked).toMatchObject({ listed: 1, unknown: 0 });
    expect(checked.checks).toBeGreaterThanOrEqual(2);
    expect(await keysUnder("reputation/source=dnsbl/")).toEqual([checked.key]);
    const sources = (reputation.result as { sources?: Array<{ source: string; outcome: string }> }).sources;
    expect(sources?.map((s) => `${s.source} ${s.outcome}`)).toEqual(["dnsbl ok", "ses ok", "auth ok"]);
    expect(sesReputation.requests.map((r) => r.operation)).toEqual(
      expect.arrayContaining(["GetAccount", "GetMetricData"]),
    );
    const auth = await bucketStore().get((await keysUnder("reputation/source=auth/"))[0] ?? "");
    expect(Buffer.from(auth ?? new Uint8Array()).toString("utf8")).toContain('"metric": "dmarc"');

    // ── analyze ──
    const analyze = await invoke("analyze", schedulerEvent("analyze", end));
    expect(analyze.code, analyze.stderr).toBe(0);
    const analysed = analyze.result as { skipped?: string; alertsSent?: number; alertsFailed?: number };
    expect(analysed.skipped).toBeUndefined();
    expect(analysed.alertsSent ?? 0).toBeGreaterThanOrEqual(1);
    expect(analysed.alertsFailed).toBe(0);
    expect(
      analyze.stdout.split("\n").some((l) => l.includes('"_aws"') && l.includes("AnalysisSucceeded")),
    ).toBe(true);

    const latest = await bucketStore().get("reports/latest.json");
    expect(latest).not.toBeNull();
    const report = ReportSchema.parse(JSON.parse(Buffer.from(latest ?? new Uint8Array()).toString("utf8")));
    const incident = history.incidents[0];
    if (!incident) throw new Error("the history has no incident");
    const alerting = report.incidents.filter((i) => i.alert);
    expect(alerting).toHaveLength(1);
    expect(alerting[0]?.verdict).toBe("recipient_filter");
    expect([...(alerting[0]?.scope.domains ?? [])].sort()).toEqual(incident.organisations);
    // The block-list check ran just now, after this window's end: an analysis never uses later observations
    // (test/shared/pipeline/reputation covers a listing inside the window and the evidence citing it).
    expect(report.reputation).toEqual([]);
    expect(await keysUnder("state/leases/")).toEqual([]);

    const toTopic = sns.publishes.filter((p) => p.topicArn === TOPIC_ARN);
    expect(toTopic.length).toBeGreaterThanOrEqual(1);
    const org = incident.organisations[0] ?? "";
    const alert = toTopic.find((p) => `${p.subject ?? ""}\n${p.message}`.includes(org));
    expect(alert, JSON.stringify(toTopic.map((p) => p.subject))).toBeDefined();
    expect(alert?.attributes.verdict?.stringValue).toBe("recipient_filter");
    const recipients = new Set(history.events.map((e) => e.recipient.toLowerCase()));
    for (const p of toTopic) {
      const text = `${p.subject ?? ""}\n${p.message}`.toLowerCase();
      const leaked = [...recipients].filter((a) => text.includes(a));
      expect(leaked).toEqual([]);
    }
  }, 120_000);
});
