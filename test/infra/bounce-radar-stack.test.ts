import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { BounceRadarStack } from "../../infra/bounce-radar-stack.ts";
import { FEATURE_FLAGS } from "../../infra/feature-flags.ts";
import { loadConfigFile, parseConfig } from "../../shared/config.ts";

const run = promisify(execFile);
type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
/** A SendGrid-style verification key: base64 DER of an ECDSA P-256 public key. */
const PUBLIC_KEY = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
  .publicKey.export({ type: "spki", format: "der" })
  .toString("base64");

describe("BounceRadarStack (example config)", () => {
  let stack: BounceRadarStack;
  let template: Template;
  let resources: Resources;

  beforeAll(async () => {
    const config = await loadConfigFile("bounce-radar.config.example.json");
    // Bundling skipped here (the e2e handler test bundles); everything else is the synth that deploys.
    const app = new App({ context: { ...FEATURE_FLAGS, "aws:cdk:bundling-stacks": [] } });
    stack = new BounceRadarStack(app, "Test", { config });
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Resources;
  });

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  it("runs one arm64 Node 22 function per job with Powertools settings and no secret in its environment", () => {
    const fns = ofType("AWS::Lambda::Function");
    expect(fns).toHaveLength(3);
    for (const [, fn] of fns) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: "bounce-radar",
            POWERTOOLS_METRICS_NAMESPACE: "BounceRadar",
            NODE_OPTIONS: "--enable-source-maps",
          },
        },
      });
      const env = JSON.stringify(fn.Properties?.Environment);
      expect(env).not.toMatch(/apiKey"\s*:\s*"(?!bounce-radar)/i);
      expect(env).not.toContain("deliverability-oncall@example.com");
      expect(env).not.toContain("+15555550123");
    }
  });

  it("schedules each job with EventBridge Scheduler: payload, retries and a dead-letter queue", () => {
    const schedules = ofType("AWS::Scheduler::Schedule").map(
      ([, s]) => s.Properties as Record<string, unknown>,
    );
    expect(schedules.map((s) => s.ScheduleExpression).sort()).toEqual([
      "rate(1 hour)",
      "rate(15 minutes)",
      "rate(6 hours)",
    ]);
    for (const s of schedules) {
      const target = s.Target as Record<string, unknown>;
      expect(target).toMatchObject({
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { "Fn::GetAtt": [expect.stringMatching(/DeadLetters/), "Arn"] } },
      });
      const input = JSON.parse(target.Input as string);
      expect(input).toMatchObject({ scheduledTime: "<aws.scheduler.scheduled-time>" });
      expect(["ingest-events", "ingest-reputation", "analyze"]).toContain(input.job);
    }
  });

  it("keeps the data bucket private, encrypted, TLS-only, versioned, logged and expiring by prefix", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: Match.objectLike({}),
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: "Enabled" },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: "data-bucket/" }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: "raw",
            Prefix: "raw/",
            ExpirationInDays: 180,
            Transitions: [{ StorageClass: "STANDARD_IA", TransitionInDays: 30 }],
          }),
          Match.objectLike({ Id: "events", Prefix: "events/", ExpirationInDays: 400 }),
          Match.objectLike({ Id: "reports", Prefix: "reports/", ExpirationInDays: 400 }),
        ]),
      },
    });
    const policies = ofType("AWS::S3::BucketPolicy").map(([, p]) => JSON.stringify(p.Properties));
    expect(policies.length).toBeGreaterThanOrEqual(2);
    for (const p of policies) expect(p).toContain('"aws:SecureTransport":"false"');
  });

  it("encrypts the alert topic with a rotating key CloudWatch alarms may use, and subscribes email and SMS", () => {
    template.hasResourceProperties("AWS::KMS::Key", {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          }),
        ]),
      },
    });
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "deliverability-oncall@example.com",
    });
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "sms", Endpoint: "+15555550123" });
  });

  it("creates the named secrets for the user to fill and lets only the job that needs each read it", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", { Name: "bounce-radar/mailgun-api-key" });
    template.hasResourceProperties("AWS::SecretsManager::Secret", { Name: "bounce-radar/spamhaus-dqs-key" });
    const secretIds = Object.fromEntries(
      ofType("AWS::SecretsManager::Secret").map(([id, r]) => [(r.Properties as { Name: string }).Name, id]),
    );
    const readersOf = (secret: string) =>
      ofType("AWS::IAM::Policy")
        .filter(([, p]) => {
          const doc = JSON.stringify(p.Properties?.PolicyDocument);
          return (
            doc.includes("secretsmanager:GetSecretValue") && doc.includes(`"Ref":"${secretIds[secret]}"`)
          );
        })
        .map(([id]) => id);
    expect(readersOf("bounce-radar/mailgun-api-key")).toEqual([expect.stringMatching(/^IngestEventsRole/)]);
    expect(readersOf("bounce-radar/spamhaus-dqs-key")).toEqual([
      expect.stringMatching(/^IngestReputationRole/),
    ]);
  });

  it("grants S3 by key prefix only, never the whole bucket's objects", () => {
    const statements = ofType("AWS::IAM::Policy").flatMap(([, p]) => {
      const doc = (p.Properties?.PolicyDocument ?? {}) as { Statement: Array<Record<string, unknown>> };
      return doc.Statement;
    });
    const s3Object = statements.filter((s) => JSON.stringify(s.Action).includes("s3:GetObject"));
    expect(s3Object.length).toBeGreaterThan(0);
    for (const s of s3Object) expect(JSON.stringify(s.Resource)).not.toMatch(/\.Arn"\]},"\/\*"/);
    const ingest = JSON.stringify(
      ofType("AWS::IAM::Policy").find(([id]) => id.startsWith("IngestEventsRole"))?.[1].Properties,
    );
    expect(ingest).toContain("/raw/*");
    expect(ingest).toContain("sqs:ReceiveMessage");
    expect(ingest).not.toContain("/reports/*");
    expect(ingest).not.toContain("sns:Publish");
  });

  it("lets only the reputation job read SES's account reputation, and analyze read the reputation values", () => {
    const policy = (prefix: string) =>
      JSON.stringify(ofType("AWS::IAM::Policy").find(([id]) => id.startsWith(prefix))?.[1].Properties);
    const reputation = policy("IngestReputationRole");
    expect(reputation).toContain('"ses:GetAccount"');
    // GetAccount has no resource-level permissions: "*", narrowed to the configured regions.
    expect(reputation).toContain('"Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1"]}}');
    expect(reputation).toContain('"cloudwatch:GetMetricData"');
    expect(policy("IngestEventsRole")).not.toContain("ses:GetAccount");
    expect(policy("AnalyzeRole")).not.toContain("cloudwatch:");
    expect(policy("AnalyzeRole")).toContain("/reputation/*");
  });

  it("alarms on errors, throttles, near-timeout, dead letters and stale data, all to the alert topic", () => {
    const alarms = ofType("AWS::CloudWatch::Alarm").map(([, a]) => a.Properties as Record<string, unknown>);
    const names = alarms.map((a) => a.AlarmName).sort();
    for (const job of ["ingest-events", "ingest-reputation", "analyze"])
      for (const what of ["errors", "throttled", "close to its timeout", "schedule could not invoke"])
        expect(names).toContain(`bounce-radar ${job}: ${what}`);
    const stale = alarms.find((a) => a.AlarmName === "bounce-radar: no successful ingest");
    expect(stale).toMatchObject({
      MetricName: "IngestSucceeded",
      Namespace: "BounceRadar",
      Period: 900,
      EvaluationPeriods: 4,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
    const nearTimeout = alarms.find((a) => a.AlarmName === "bounce-radar analyze: close to its timeout");
    expect(nearTimeout?.Threshold).toBe(600_000 * 0.8);
    for (const a of alarms) expect(JSON.stringify(a.AlarmActions)).toContain("AlertsTopic");
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });

  it("catalogues events and incidents for Athena with partition projection, a capped workgroup and named queries", () => {
    template.hasResourceProperties("AWS::Glue::Table", {
      TableInput: Match.objectLike({
        Name: "events",
        PartitionKeys: [
          { Name: "source", Type: "string" },
          { Name: "dt", Type: "string" },
        ],
        Parameters: Match.objectLike({
          "projection.enabled": "true",
          "projection.dt.type": "date",
          "projection.source.type": "enum",
        }),
      }),
    });
    template.hasResourceProperties("AWS::Glue::Table", {
      TableInput: Match.objectLike({ Name: "incidents" }),
    });
    template.hasResourceProperties("AWS::Athena::WorkGroup", {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10_240 * 1024 * 1024,
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: "SSE_S3" } }),
      }),
    });
    const queries = ofType("AWS::Athena::NamedQuery").map(([, q]) => (q.Properties as { Name: string }).Name);
    expect(queries.sort()).toEqual([
      "bounce-radar: hard-bounce rate by organisation and day",
      "bounce-radar: incidents over time",
      "bounce-radar: top rejection texts for one organisation",
    ]);
  });

  it("has no cdk-nag AwsSolutions finding left unacknowledged", () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const open = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`),
    );
    expect(open).toEqual([]);
    // The same check does see findings: a bare bucket in another stack has some.
    const other = new Stack(new App(), "Bare");
    new Bucket(other, "Plain");
    expect(new AwsSolutionsChecks().validateScope(other).violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining([expect.stringContaining("S1")]),
    );
  });
});

describe("BounceRadarStack with a SendGrid webhook source", () => {
  // A P-256 public key in SendGrid's form (base64 DER); any valid key will do for synth.
  let stack: BounceRadarStack;
  let resources: Resources;

  beforeAll(async () => {
    const base = await loadConfigFile("bounce-radar.config.example.json");
    const config = parseConfig({
      ...base,
      subscriptions: base.subscriptions,
      sources: [
        ...base.sources,
        {
          id: "sendgrid",
          provider: "sendgrid",
          webhookPublicKey: PUBLIC_KEY,
          apiKeySecret: "bounce-radar/sendgrid-api-key",
        },
        { id: "postmark", provider: "postmark", serverTokenSecret: "bounce-radar/postmark-server-token" },
        { id: "sparkpost", provider: "sparkpost", apiKeySecret: "bounce-radar/sparkpost-api-key" },
      ],
    });
    const app = new App({ context: { ...FEATURE_FLAGS, "aws:cdk:bundling-stacks": [] } });
    stack = new BounceRadarStack(app, "Hook", { config });
    resources = Template.fromStack(stack).toJSON().Resources as Resources;
  });

  it("receives the webhook on a public function URL whose role may only write raw/sendgrid/", () => {
    const urls = Object.values(resources).filter((r) => r.Type === "AWS::Lambda::Url");
    expect(urls).toHaveLength(1);
    expect(urls[0]?.Properties).toMatchObject({ AuthType: "NONE" });
    const policy = Object.entries(resources).find(
      ([id, r]) => r.Type === "AWS::IAM::Policy" && id.startsWith("SendgridWebhookRole"),
    )?.[1];
    const text = JSON.stringify(policy?.Properties);
    expect(text).toContain('"s3:PutObject"');
    expect(text).toContain("/raw/sendgrid/*");
    expect(text).not.toMatch(/s3:GetObject|s3:DeleteObject|secretsmanager:/);
    const fn = Object.entries(resources).find(
      ([id, r]) => r.Type === "AWS::Lambda::Function" && id.startsWith("SendgridWebhook"),
    )?.[1];
    expect(JSON.stringify(fn?.Properties)).toContain(PUBLIC_KEY);
    // The URL to paste into SendGrid's settings is a stack output.
    const outputs = Object.keys(Template.fromStack(stack).findOutputs("*"));
    expect(outputs.some((k) => k.startsWith("SendgridWebhookUrl"))).toBe(true);
  });

  it("lets the ingest job read the new ESP secrets and nothing else new, with no cdk-nag finding left", () => {
    const ingest = JSON.stringify(
      Object.entries(resources).find(
        ([id, r]) => r.Type === "AWS::IAM::Policy" && id.startsWith("IngestEventsRole"),
      )?.[1].Properties,
    );
    const secretId = (name: string) =>
      Object.entries(resources).find(
        ([, r]) => r.Type === "AWS::SecretsManager::Secret" && r.Properties?.Name === name,
      )?.[0];
    for (const name of [
      "bounce-radar/sendgrid-api-key",
      "bounce-radar/postmark-server-token",
      "bounce-radar/sparkpost-api-key",
    ]) {
      const id = secretId(name);
      expect(id, name).toBeDefined();
      expect(ingest).toContain(`"Ref":"${id}"`);
    }
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(
      report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`),
      ),
    ).toEqual([]);
  });
});

describe("deployment safety", () => {
  const synth = (json: Record<string, unknown>) => {
    const app = new App({ context: { ...FEATURE_FLAGS, "aws:cdk:bundling-stacks": [] } });
    const stack = new BounceRadarStack(app, "Safety", { config: parseConfig(json) });
    return { stack, template: Template.fromStack(stack) };
  };
  const secretIds = (template: Template) =>
    Object.fromEntries(
      Object.entries(template.findResources("AWS::SecretsManager::Secret")).map(([id, r]) => [
        (r.Properties as { Name: string }).Name,
        id,
      ]),
    );
  const outputIds = (template: Template) =>
    Object.fromEntries(
      Object.entries(template.findOutputs("*")).map(([id, o]) => [JSON.stringify(o.Value), id]),
    );

  it("keeps every secret's and output's logical id when a source whose secret sorts first is added", async () => {
    const base = await loadConfigFile("bounce-radar.config.example.json");
    const before = synth({ ...base }).template;
    const after = synth({
      ...base,
      sources: [
        ...base.sources,
        { id: "postmark", provider: "postmark", serverTokenSecret: "aaa-first/postmark-token" },
      ],
    }).template;
    const [was, now] = [secretIds(before), secretIds(after)];
    expect(Object.keys(was).length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(now).sort()[0]).toBe("aaa-first/postmark-token");
    for (const [name, id] of Object.entries(was)) expect(now[name], name).toBe(id);
    const [outWas, outNow] = [outputIds(before), outputIds(after)];
    for (const [value, id] of Object.entries(outWas)) expect(outNow[value], value).toBe(id);
    expect(Object.keys(outNow)).toHaveLength(Object.keys(outWas).length + 1);
  });

  it("retains the secrets users fill in, on stack deletion and on replacement", async () => {
    const { template } = synth({ ...(await loadConfigFile("bounce-radar.config.example.json")) });
    const secrets = Object.values(template.findResources("AWS::SecretsManager::Secret"));
    expect(secrets.length).toBeGreaterThan(0);
    for (const s of secrets)
      expect(s).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("builds the SES queue's ARN in the stack's partition, and refuses what is not a queue URL", () => {
    const sqsResources = (queueUrl: string) => {
      const { template } = synth({ sources: [{ id: "ses", provider: "ses", queueUrl }] });
      const policy = Object.entries(template.findResources("AWS::IAM::Policy")).find(([id]) =>
        id.startsWith("IngestEventsRole"),
      )?.[1];
      const statement = (
        (policy?.Properties ?? { PolicyDocument: { Statement: [] } }) as {
          PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] };
        }
      ).PolicyDocument.Statement.find((st) => JSON.stringify(st.Action).includes("sqs:ReceiveMessage"));
      return JSON.stringify(statement?.Resource);
    };
    const china = sqsResources("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/ses-events");
    expect(china).toContain('{"Ref":"AWS::Partition"}');
    expect(china).toContain(":sqs:cn-north-1:123456789012:ses-events");
    expect(sqsResources("https://sqs.eu-west-1.amazonaws.com/123456789012/events-cn.fifo")).toContain(
      ":sqs:eu-west-1:123456789012:events-cn.fifo",
    );
    expect(() =>
      synth({ sources: [{ id: "ses", provider: "ses", queueUrl: "https://example.com/q" }] }),
    ).toThrow(/queueUrl https:\/\/example.com\/q is not an SQS queue URL/);
  });

  it("reserves (and so caps) the public webhook's concurrency, unless told not to", () => {
    const hook = (deployment: Record<string, unknown>) => {
      const { template } = synth({
        sources: [{ id: "sendgrid", provider: "sendgrid", webhookPublicKey: PUBLIC_KEY }],
        deployment,
      });
      return Object.entries(template.findResources("AWS::Lambda::Function")).find(([id]) =>
        id.startsWith("SendgridWebhook"),
      )?.[1].Properties as Record<string, unknown>;
    };
    expect(hook({}).ReservedConcurrentExecutions).toBe(10);
    expect(hook({ webhookReservedConcurrency: 3 }).ReservedConcurrentExecutions).toBe(3);
    expect(hook({ webhookReservedConcurrency: null })).not.toHaveProperty("ReservedConcurrentExecutions");
  });

  it("lets CloudWatch use the alert key only for this account's own alarms", async () => {
    const { template } = synth({ ...(await loadConfigFile("bounce-radar.config.example.json")) });
    const key = Object.values(template.findResources("AWS::KMS::Key"))[0];
    const statements = (
      (key?.Properties ?? { KeyPolicy: { Statement: [] } }) as {
        KeyPolicy: { Statement: Record<string, unknown>[] };
      }
    ).KeyPolicy.Statement;
    const cloudwatch = statements.filter((st) =>
      JSON.stringify(st.Principal).includes("cloudwatch.amazonaws.com"),
    );
    expect(cloudwatch).toHaveLength(1);
    const conditions = JSON.stringify(cloudwatch[0]?.Condition);
    expect(conditions).toContain('"aws:SourceAccount":{"Ref":"AWS::AccountId"}');
    expect(conditions).toContain(":alarm:bounce-radar*");
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm"));
    for (const a of alarms)
      expect(String((a.Properties as { AlarmName: string }).AlarmName)).toMatch(/^bounce-radar/);
  });
});

describe("cdk synth with a deployment config", () => {
  it("fails on an invalid config with a message naming the field", async () => {
    const dir = await mkdtemp(join(tmpdir(), "br-synth-"));
    const bad = join(dir, "bad.json");
    await writeFile(
      bad,
      JSON.stringify({
        sources: [],
        subscriptions: { phones: ["07700 900123"] },
        schedules: { ingestEvents: "every 15 minutes" },
      }),
    );
    const r = await run("node", ["bin/run-ts.js", "infra/app.ts"], {
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: bad }), CDK_OUTDIR: dir },
    }).catch((e: { code: number; stderr: string }) => e);
    expect("code" in r ? r.code : 0).toBe(1);
    expect(r.stderr).toContain("subscriptions.phones.0: an E.164 phone number");
    expect(r.stderr).toContain("schedules.ingestEvents: an EventBridge Scheduler expression");
  }, 60_000);
});
