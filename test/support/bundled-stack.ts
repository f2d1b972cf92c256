import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { BounceRadarStack } from "../../infra/bounce-radar-stack.ts";
import { FEATURE_FLAGS } from "../../infra/feature-flags.ts";
import type { Config } from "../../shared/config.ts";
import { type Account, ResolvedTemplate, type TemplateJson } from "./stack-policies.ts";

/*
 * The deployable artefacts as `cdk synth` makes them: the stack synthesized with bundling (the local esbuild),
 * each function's bundle (index.mjs) run in its own Node process with the environment the stack gives it
 * (tokens resolved to local values) and the payload its EventBridge Scheduler schedule sends. The bundle runs
 * from a folder without node_modules, so it must be self-contained.
 */

export type FunctionName = "ingest-events" | "ingest-reputation" | "analyze" | "sendgrid-webhook";

export interface Bundle {
  readonly logicalId: string;
  /** The asset's index.mjs. */
  readonly entry: string;
  /** The function's environment, tokens resolved. */
  readonly environment: Record<string, string>;
}

export interface Invocation {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly result: unknown;
}

export interface BundledStack {
  readonly outdir: string;
  readonly template: ResolvedTemplate;
  readonly bundles: ReadonlyMap<FunctionName, Bundle>;
  /** Each schedule's Input, by job. */
  readonly payloads: ReadonlyMap<string, string>;
  /** The schedule's payload with Scheduler's context attributes filled in, as Scheduler does at invocation. */
  schedulerEvent(job: FunctionName, scheduledTime: Date): unknown;
  /** Runs the function's bundle in a fresh Node process; `env` adds endpoints and credentials. */
  invoke(job: FunctionName, event: unknown, env: Record<string, string>): Promise<Invocation>;
  dispose(): Promise<void>;
}

const RESULT_MARK = "E2E_RESULT ";
const CHILD_SCRIPT = `
const { handler } = await import(process.env.E2E_BUNDLE_URL);
const context = { awsRequestId: process.env.E2E_REQUEST_ID, getRemainingTimeInMillis: () => 600000 };
const result = await handler(JSON.parse(process.env.E2E_EVENT), context);
process.stdout.write("\\n${RESULT_MARK}" + JSON.stringify(result) + "\\n");
`;

/**
 * `refs`: the value Ref gives for chosen resources, by logical-id prefix (e.g. `{ DataBucketData: "local" }`),
 * so the functions' environment points at the local servers.
 */
export async function synthBundledStack(
  config: Config,
  where: Account,
  refs: Readonly<Record<string, string>> = {},
): Promise<BundledStack> {
  const outdir = await mkdtemp(join(tmpdir(), "br-bundled-cdk-"));
  const app = new App({ context: FEATURE_FLAGS, outdir });
  // Environment-agnostic, as `cdk synth` of the app: account, region and partition stay pseudo parameters.
  const stack = new BounceRadarStack(app, "Bundled", { config });
  app.synth();
  const json = Template.fromStack(stack).toJSON() as TemplateJson;
  const overrides: Record<string, string> = {};
  for (const id of Object.keys(json.Resources))
    for (const [prefix, value] of Object.entries(refs)) if (id.startsWith(prefix)) overrides[id] = value;
  const template = new ResolvedTemplate(json, where, overrides);

  const bundles = new Map<FunctionName, Bundle>();
  for (const id of template.idsOf("AWS::Lambda::Function")) {
    const props = template.resource(id).Properties ?? {};
    const code = props.Code as { S3Key?: unknown } | undefined;
    if (typeof code?.S3Key !== "string") continue; // not one of ours (e.g. a CDK custom resource)
    const hash = code.S3Key.replace(/\.zip$/, "");
    const variables =
      (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const environment = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, String(template.resolve(value))]),
    );
    bundles.set(functionNameOf(id), {
      logicalId: id,
      entry: join(outdir, `asset.${hash}`, "index.mjs"),
      environment,
    });
  }
  const payloads = new Map<string, string>();
  for (const id of template.idsOf("AWS::Scheduler::Schedule")) {
    const input = (template.resource(id).Properties?.Target as { Input?: unknown } | undefined)?.Input;
    if (typeof input !== "string")
      throw new Error(`schedule input is not a literal: ${JSON.stringify(input)}`);
    payloads.set((JSON.parse(input) as { job: string }).job, input);
  }

  return {
    outdir,
    template,
    bundles,
    payloads,
    schedulerEvent(job, scheduledTime) {
      const input = payloads.get(job);
      if (!input) throw new Error(`no schedule for ${job}`);
      const filled = input
        .replaceAll("<aws.scheduler.scheduled-time>", scheduledTime.toISOString().replace(/\.\d{3}Z$/, "Z"))
        .replaceAll("<aws.scheduler.execution-id>", randomUUID())
        .replaceAll(
          "<aws.scheduler.schedule-arn>",
          `arn:${where.partition}:scheduler:${where.region}:${where.account}:schedule/default/Bundled-${job}`,
        )
        .replaceAll("<aws.scheduler.attempt-number>", "1");
      return JSON.parse(filled);
    },
    async invoke(job, event, env) {
      const bundle = bundles.get(job);
      if (!bundle) throw new Error(`no function for ${job}`);
      const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD_SCRIPT], {
        cwd: outdir,
        env: {
          PATH: process.env.PATH ?? "",
          ...bundle.environment,
          AWS_REGION: where.region,
          ...env,
          E2E_BUNDLE_URL: pathToFileURL(bundle.entry).href,
          E2E_EVENT: JSON.stringify(event),
          E2E_REQUEST_ID: `e2e-${job}-${randomUUID().slice(0, 8)}`,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", resolve);
      });
      const line = stdout
        .split("\n")
        .reverse()
        .find((l) => l.startsWith(RESULT_MARK));
      const result = line === undefined ? undefined : (JSON.parse(line.slice(RESULT_MARK.length)) as unknown);
      return { code, stdout, stderr, result };
    },
    async dispose() {
      await rm(outdir, { recursive: true, force: true });
    },
  };
}

function functionNameOf(logicalId: string): FunctionName {
  if (logicalId.startsWith("IngestEvents")) return "ingest-events";
  if (logicalId.startsWith("IngestReputation")) return "ingest-reputation";
  if (logicalId.startsWith("SendgridWebhook")) return "sendgrid-webhook";
  if (logicalId.startsWith("Analyze")) return "analyze";
  throw new Error(`function ${logicalId} is not one of bounce-radar's`);
}
