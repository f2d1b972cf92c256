import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config.ts";
import { generateHistory, type History, SENDER_DOMAIN } from "../../shared/simulation/b2b-history.ts";
import { type MailgunServer, startMailgunServer } from "../../shared/simulation/mailgun-api-server.ts";
import { toMailgunEvent } from "../../shared/simulation/to-mailgun-event.ts";
import { postmarkBounceIdFor, toPostmarkRecord } from "../../shared/simulation/to-postmark-record.ts";
import { toSparkpostEvent } from "../../shared/simulation/to-sparkpost-event.ts";
import { type AwsCallRecorder, startAwsCallRecorder } from "../support/aws-call-recorder.ts";
import { type BundledStack, type FunctionName, synthBundledStack } from "../support/bundled-stack.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { type IamRequest, iamRequestsOf } from "../support/iam-requests.ts";
import { type PostmarkApiServer, startPostmarkApiServer } from "../support/postmark-api-server.ts";
import { type RunningS3rver, startS3rver } from "../support/s3rver.ts";
import { type SecretsManagerServer, startSecretsManagerServer } from "../support/secrets-manager-server.ts";
import { DEFAULT_MIX, makeSesRecords } from "../support/ses-events.ts";
import { type SesReputationServer, startSesReputationServer } from "../support/ses-reputation-server.ts";
import { type SndsServer, startSndsServer } from "../support/snds-server.ts";
import { type SnsServer, startSnsServer } from "../support/sns-server.ts";
import { type SparkpostApiServer, startSparkpostApiServer } from "../support/sparkpost-api-server.ts";
import { type SqsServer, startSqsServer } from "../support/sqs-server.ts";
import { type Decision, evaluate } from "../support/stack-policies.ts";
import { webhookKeys, webhookRequest } from "../support/webhook-request.ts";

/*
 * What the deployed stack really allows. Every function's bundle runs its real code paths — ingest of every
 * source kind (SES through SQS, Mailgun, SendGrid's webhook, Postmark, SparkPost), reputation (block list, SES,
 * SNDS, DNS posture), analysis with alerts, the webhook receiver — against the local fakes, through a proxy that
 * records every AWS call on the wire. Each call is then evaluated offline, as IAM would, against that
 * function's role in the synthesized template, with the bucket policy, the key policy and the topic policy.
 * s3rver has no IAM: without this, a missing grant shows up only in the deployed account.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WHERE = { partition: "aws", region: "us-east-1", account: "123456789012" } as const;
const QUEUE_NAME = "bounce-radar-ses-events";
const QUEUE_URL = `https://sqs.${WHERE.region}.amazonaws.com/${WHERE.account}/${QUEUE_NAME}`;
const TOPIC_NAME = "bounce-radar-iam-alerts";
const SECRETS = {
  mailgun: ["bounce-radar/mailgun", "key-iam-0123456789abcdef"],
  postmark: ["bounce-radar/postmark", "pm-iam-token"],
  sparkpost: ["bounce-radar/sparkpost", "sp-iam-key"],
  snds: ["bounce-radar/snds", "snds-iam-key"],
} as const;
const WEBHOOK_KEYS = webhookKeys();
const WEBHOOK_PUBLIC_KEY = WEBHOOK_KEYS.publicKey;

describe("every AWS call each bundled function makes, against its synthesized role", () => {
  let history: History;
  let end: Date;
  let start: Date;
  let stack: BundledStack;
  let recorder: AwsCallRecorder;
  let s3: RunningS3rver;
  let sqs: SqsServer;
  let sns: SnsServer;
  let secrets: SecretsManagerServer;
  let sesReputation: SesReputationServer;
  let mailgun: MailgunServer;
  let postmark: PostmarkApiServer;
  let sparkpost: SparkpostApiServer;
  let snds: SndsServer;
  let dns: DnsServer;
  const decisions: Decision[] = [];
  const requests: IamRequest[] = [];

  beforeAll(async () => {
    end = new Date(Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR);
    // 20 days of traffic: the older baseline days hold only a SendGrid "processed" event (nothing countable).
    start = new Date(end.getTime() - 20 * DAY);
    history = generateHistory({
      seed: 23,
      start,
      days: 20,
      organisations: 40,
      incidents: [{ kind: "gateway_user_unknown_one_org", at: new Date(end.getTime() - DAY) }],
    });
    const lastHours = history.events.filter((e) => Date.parse(e.occurredAt) > end.getTime() - 6 * HOUR);
    [s3, sqs, sns, secrets, sesReputation, mailgun, postmark, sparkpost, snds, dns] = await Promise.all([
      startS3rver(),
      startSqsServer({ queueName: QUEUE_NAME, queueUrl: QUEUE_URL }),
      startSnsServer(),
      startSecretsManagerServer(Object.fromEntries(Object.values(SECRETS))),
      startSesReputationServer(),
      startMailgunServer({
        apiKey: SECRETS.mailgun[1],
        domains: [SENDER_DOMAIN],
        events: history.events.map((e) => toMailgunEvent(e, SENDER_DOMAIN)),
      }),
      startPostmarkApiServer({
        serverToken: SECRETS.postmark[1],
        bounces: lastHours.flatMap((e) => {
          const r = e.type === "bounced" ? toPostmarkRecord(e, postmarkBounceIdFor(e.id)) : null;
          return r ? [r] : [];
        }),
      }),
      startSparkpostApiServer({
        apiKey: SECRETS.sparkpost[1],
        events: lastHours.flatMap((e) => {
          const r = toSparkpostEvent(e);
          return r ? [r] : [];
        }),
      }),
      startSndsServer({ key: SECRETS.snds[1] }),
      startDnsServer({
        ...history.zone,
        [SENDER_DOMAIN]: { ...history.zone[SENDER_DOMAIN], txt: ["v=spf1 include:mailgun.org ~all"] },
      }),
    ]);
    for (const record of makeSesRecords({ count: 60, start: new Date(end.getTime() - 5 * HOUR), seed: 5 }))
      sqs.send(JSON.stringify(record));
    // A baseline day with events but nothing countable (SES "Send" records only): an empty aggregate.
    const onlySends = Object.fromEntries(Object.keys(DEFAULT_MIX).map((k) => [k, k === "Send" ? 1 : 0]));
    for (const record of makeSesRecords({
      count: 3,
      start: new Date(end.getTime() - 25 * DAY),
      spanMs: HOUR,
      seed: 6,
      mix: onlySends,
    }))
      sqs.send(JSON.stringify(record));
    recorder = await startAwsCallRecorder({
      s3: s3.endpoint,
      sqs: sqs.endpoint,
      sns: sns.endpoint,
      secretsmanager: secrets.endpoint,
      sesv2: sesReputation.endpoint,
      cloudwatch: sesReputation.endpoint,
    });

    const windowed = {
      startAt: new Date(end.getTime() - 6 * HOUR).toISOString(),
      windowMinutes: 180,
      lagMinutes: 30,
    };
    const config = parseConfig({
      sources: [
        { id: "ses-iam", provider: "ses", queueUrl: QUEUE_URL, region: WHERE.region, waitTimeSeconds: 0 },
        {
          id: "mailgun-iam",
          provider: "mailgun",
          api: "events",
          domains: [SENDER_DOMAIN],
          apiKeySecret: SECRETS.mailgun[0],
          baseUrl: mailgun.baseUrl,
          startAt: start.toISOString(),
          windowMinutes: 1440,
          lagMinutes: 30,
        },
        { id: "sendgrid-iam", provider: "sendgrid", webhookPublicKey: WEBHOOK_PUBLIC_KEY },
        {
          id: "postmark-iam",
          provider: "postmark",
          serverTokenSecret: SECRETS.postmark[0],
          baseUrl: postmark.baseUrl,
          ...windowed,
        },
        {
          id: "sparkpost-iam",
          provider: "sparkpost",
          apiKeySecret: SECRETS.sparkpost[0],
          baseUrl: sparkpost.baseUrl,
          ...windowed,
        },
      ],
      analysis: { dnsServers: [dns.address] },
      reputation: {
        blocklists: [],
        customBlocklists: [{ id: "bl-iam", zone: "bl.iam.example", targets: "ip" }],
        lookbackDays: 2,
        dnsServers: [dns.address],
        dnsTimeoutMs: 500,
        sendingDomains: [SENDER_DOMAIN],
        ses: { regions: [WHERE.region] },
        snds: { keySecret: SECRETS.snds[0], baseUrl: snds.baseUrl },
        authentication: { dkimSelectors: [] },
      },
    });
    stack = await synthBundledStack(config, WHERE, {
      DataBucketData: s3.bucket,
      AlertsTopic: `arn:aws:sns:${WHERE.region}:${WHERE.account}:${TOPIC_NAME}`,
    });

    const env = {
      ...recorder.environment,
      // s3rver accepts only its own key pair; the other local servers check that requests are signed.
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
    };
    const run = async (job: FunctionName, event: unknown) => {
      recorder.as(job);
      const r = await stack.invoke(job, event, env);
      if (r.code !== 0) throw new Error(`${job} exited ${r.code}: ${r.stderr.slice(-2000)}`);
      if (process.env.IAM_TEST_DEBUG) process.stderr.write(`RESULT ${job} ${JSON.stringify(r.result)}\n`);
      return r.result;
    };
    // A SendGrid batch, then the same events again in other bytes (a redelivery SendGrid re-serialised): the
    // second lands as its own raw object and normalizes to nothing new.
    const at = Math.floor((end.getTime() - 4 * HOUR) / 1000);
    const events = [
      {
        email: "ana@webhook-iam.example",
        timestamp: at,
        event: "delivered",
        sg_event_id: "iam-1",
        sg_message_id: "iam-m1.f",
        ip: "198.51.100.20",
        response: "250 2.0.0 OK",
      },
      {
        email: "bo@webhook-iam.example",
        timestamp: at + 5,
        event: "bounce",
        type: "bounce",
        status: "5.1.1",
        reason: "550 5.1.1 User unknown",
        sg_event_id: "iam-2",
        sg_message_id: "iam-m2.f",
        ip: "198.51.100.20",
      },
    ];
    await run("sendgrid-webhook", webhookRequest(JSON.stringify(events), WEBHOOK_KEYS.privateKey));
    await run("sendgrid-webhook", webhookRequest(JSON.stringify(events, null, 1), WEBHOOK_KEYS.privateKey));
    await run("ingest-events", stack.schedulerEvent("ingest-events", new Date()));
    await run("ingest-events", stack.schedulerEvent("ingest-events", new Date()));
    await run("ingest-reputation", stack.schedulerEvent("ingest-reputation", new Date()));
    await run("analyze", stack.schedulerEvent("analyze", end));
    await run("analyze", stack.schedulerEvent("analyze", end));

    const facts = {
      ...WHERE,
      secretArnOf: (id: string) => {
        if (id.startsWith("arn:")) return id;
        const match = stack.template
          .idsOf("AWS::SecretsManager::Secret")
          .find((sid) => stack.template.resource(sid).Properties?.Name === id);
        if (!match) throw new Error(`secret ${id} is not in the template`);
        return stack.template.ref(match);
      },
    };
    for (const call of recorder.calls) {
      const role = stack.template.roleOfFunction(
        stack.bundles.get(call.caller as FunctionName)?.logicalId ?? "",
      );
      for (const request of iamRequestsOf(call, facts)) {
        requests.push(request);
        for (const r of [request, ...stack.template.impliedRequests(request)])
          decisions.push(await evaluate(stack.template, role, r));
      }
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all([
      recorder?.stop(),
      s3?.stop(),
      sqs?.stop(),
      sns?.stop(),
      secrets?.stop(),
      sesReputation?.stop(),
      mailgun?.stop(),
      postmark?.stop(),
      sparkpost?.stop(),
      snds?.stop(),
      dns?.stop(),
      stack?.dispose(),
    ]);
  });

  const describeDecision = (d: Decision) =>
    `${d.request.caller}: ${d.result} ${d.request.action} on ${d.request.resource} (${d.request.call})${d.detail ? ` ${d.detail}` : ""}`;

  it("recorded the calls of every function and every kind of write", () => {
    const callers = new Set(requests.map((r) => r.caller));
    expect([...callers].sort()).toEqual([
      "analyze",
      "ingest-events",
      "ingest-reputation",
      "sendgrid-webhook",
    ]);
    const kinds = new Set(
      requests.map((r) => `${r.caller} ${r.action} ${r.resource.split("/").slice(0, 2).join("/")}`),
    );
    // The writes s3rver lets through and IAM might not: deletes of quarantine and events objects.
    for (const expected of [
      "ingest-events s3:DeleteObject arn:aws:s3:::bounce-radar-test/quarantine",
      "ingest-events s3:DeleteObject arn:aws:s3:::bounce-radar-test/events",
      "ingest-events sqs:DeleteMessage arn:aws:sqs:us-east-1:123456789012:bounce-radar-ses-events",
      "ingest-events secretsmanager:GetSecretValue",
      "ingest-reputation ses:GetAccount *",
      "analyze sns:Publish",
    ])
      expect(
        [...kinds].some((k) => k.startsWith(expected)),
        `${expected} in\n${[...kinds].sort().join("\n")}`,
      ).toBe(true);
    expect(sns.publishes.length).toBeGreaterThan(0);
  });

  it("allows every one of them", () => {
    const refused = decisions.filter((d) => d.result !== "Allowed").map(describeDecision);
    expect(refused, refused.join("\n")).toEqual([]);
    // Publishing to the encrypted topic is checked against the key policy too.
    expect(decisions.map((d) => d.request.action)).toEqual(
      expect.arrayContaining(["kms:GenerateDataKey", "kms:Decrypt"]),
    );
    expect(decisions.length).toBeGreaterThan(100);
  });

  it("is not a rubber stamp: calls no function makes are refused", async () => {
    const { template } = stack;
    const roleOf = (job: FunctionName) => template.roleOfFunction(stack.bundles.get(job)?.logicalId ?? "");
    const object = (key: string) => `arn:aws:s3:::${s3.bucket}/${key}`;
    const probe = (caller: FunctionName, action: string, resource: string): IamRequest => ({
      action,
      resource,
      context: {},
      call: "probe",
      caller,
    });
    for (const [job, action, resource] of [
      // The analysis never writes cursors or the ingest lease, nor deletes events.
      ["analyze", "s3:PutObject", object("state/cursors/mailgun-iam.json")],
      ["analyze", "s3:PutObject", object("state/leases/ingest-events.json")],
      ["analyze", "s3:DeleteObject", object("events/source=mailgun/dt=2026-01-01/x.ndjson.gz")],
      // Derived objects are immutable (a rebuild writes new ones), and recipient history is derived too.
      [
        "analyze",
        "s3:DeleteObject",
        object("aggregates/daily/dt=2026-01-01/organisations-0123456789abcdef01234567.ndjson.gz"),
      ],
      ["analyze", "s3:PutObject", object("state/recipients/acme.com/last-delivered.json")],
      // Ingest never deletes what it landed verbatim, nor touches reports.
      ["ingest-events", "s3:DeleteObject", object("raw/mailgun/dt=2026-01-01/x-0.json.gz")],
      ["ingest-events", "s3:PutObject", object("reports/latest.json")],
      ["ingest-reputation", "s3:PutObject", object("events/source=ses/dt=2026-01-01/x.ndjson.gz")],
      ["sendgrid-webhook", "s3:PutObject", object("raw/mailgun/dt=2026-01-01/x-0.json.gz")],
      ["sendgrid-webhook", "s3:GetObject", object("raw/sendgrid/dt=2026-01-01/x-0.json.gz")],
    ] as const) {
      const d = await evaluate(template, roleOf(job), probe(job, action, resource));
      expect(d.result, describeDecision(d)).toBe("ImplicitlyDenied");
    }
  });
});
