import { isIP } from "node:net";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import type { ReputationConfig } from "../../config.ts";
import { NodeTxtResolver } from "../../dns/txt-resolver.ts";
import type { ReputationSignal, SignalSource } from "../../domain/reputation/reputation-signal.ts";
import type { SecretResolver } from "../../secrets/secret-resolver.ts";
import { AuthPostureSource } from "./auth/auth-posture-source.ts";
import { PostmasterCredentialsSchema, PostmasterSource } from "./postmaster/postmaster-source.ts";
import { type BadRowSink, PartialCollectError, type ReputationSource } from "./reputation-source.ts";
import { SendgridReputationSource } from "./sendgrid/sendgrid-reputation-source.ts";
import { SesReputationSource } from "./ses/ses-reputation-source.ts";
import { SndsSource } from "./snds/snds-source.ts";
import { SparkpostHealthSource } from "./sparkpost/sparkpost-health-source.ts";

export interface ConfiguredSourceDeps {
  readonly secrets: SecretResolver;
  readonly log: (line: string) => void;
  /** Test hook: HTTP options (sleep, fetch, attempts) for every HTTP source. */
  readonly http?: { readonly sleep?: (ms: number) => Promise<void>; readonly maxAttempts?: number };
}

/**
 * The signal sources the configuration asks for, in a fixed order. Each resolves its secret when it runs, so a
 * missing or malformed secret fails that source alone. SES clients take their endpoint from the SDK's own
 * variables (AWS_ENDPOINT_URL_SESV2, AWS_ENDPOINT_URL_CLOUDWATCH), which is how tests reach a local server.
 */
export function configuredSignalSources(
  config: ReputationConfig,
  deps: ConfiguredSourceDeps,
): ReputationSource[] {
  const http = deps.http ?? {};
  const secret = async (name: string, what: string) => {
    const s = await deps.secrets.resolve(name);
    deps.log(`reputation: ${what} from ${s.origin}`);
    return s.value;
  };
  const sources: ReputationSource[] = [];
  const p = config.postmaster;
  if (p) {
    sources.push(
      deferred("postmaster", async () => {
        const raw = await secret(p.credentialsSecret, "Postmaster Tools OAuth credentials");
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          throw new Error(
            `secret "${p.credentialsSecret}" is not JSON: expected {"client_id", "client_secret", "refresh_token"}`,
          );
        }
        const credentials = PostmasterCredentialsSchema.safeParse(parsed);
        if (!credentials.success)
          throw new Error(
            `secret "${p.credentialsSecret}" lacks ${credentials.error.issues.map((i) => i.path.join(".")).join(", ")}: expected {"client_id", "client_secret", "refresh_token"}`,
          );
        return new PostmasterSource({
          credentials: credentials.data,
          domains: p.domains ?? config.sendingDomains,
          lookbackDays: p.lookbackDays,
          ...(p.baseUrl ? { baseUrl: p.baseUrl } : {}),
          ...(p.tokenUrl ? { tokenUrl: p.tokenUrl } : {}),
          ...http,
        });
      }),
    );
  }
  const snds = config.snds;
  if (snds) {
    const sndsIps = config.sendingIps.filter((ip) => isIP(ip) === 4);
    sources.push(
      deferred(
        "snds",
        async () =>
          new SndsSource({
            key: await secret(snds.keySecret, "SNDS key"),
            daysBack: snds.daysBack,
            // SNDS knows IPv4 only: an IPv6 sending IP is left out of it, not a reason to fail the source.
            ...(sndsIps.length > 0 ? { ips: sndsIps } : {}),
            ...(snds.baseUrl ? { baseUrl: snds.baseUrl } : {}),
            ...http,
          }),
      ),
    );
  }
  const ses = config.ses;
  if (ses) {
    // One source for all regions: one batch per run, so regions never overwrite each other's.
    sources.push(
      deferred("ses", async () => {
        const regions = ses.regions.map(
          (region) =>
            new SesReputationSource({
              region,
              sesv2: new SESv2Client({ region }),
              cloudwatch: new CloudWatchClient({ region }),
            }),
        );
        return {
          id: "ses",
          // One region failing keeps what the others (and its own part-way read) returned.
          collect: async (now: Date) => {
            const calls = await Promise.allSettled(regions.map((r) => r.collect(now)));
            const signals = calls.flatMap((c) =>
              c.status === "fulfilled"
                ? c.value
                : c.reason instanceof PartialCollectError
                  ? c.reason.signals
                  : [],
            );
            const failed = calls.find((c) => c.status === "rejected");
            if (failed === undefined) return signals;
            const fault = failed.reason instanceof PartialCollectError ? failed.reason.fault : failed.reason;
            throw signals.length > 0 ? new PartialCollectError(fault, signals) : fault;
          },
        };
      }),
    );
  }
  const sg = config.sendgrid;
  if (sg) {
    sources.push(
      deferred(
        "sendgrid",
        async () =>
          new SendgridReputationSource({
            apiKey: await secret(sg.apiKeySecret, "SendGrid API key"),
            region: sg.region,
            seq: sg.engagementQuality,
            ...(sg.baseUrl ? { baseUrl: sg.baseUrl } : {}),
            ...http,
          }),
      ),
    );
  }
  const sp = config.sparkpost;
  if (sp) {
    sources.push(
      deferred(
        "sparkpost",
        async () =>
          new SparkpostHealthSource({
            apiKey: await secret(sp.apiKeySecret, "SparkPost API key"),
            region: sp.region,
            ...(config.sendingDomains.length > 0 ? { domains: config.sendingDomains } : {}),
            ...(sp.baseUrl ? { baseUrl: sp.baseUrl } : {}),
            ...http,
          }),
      ),
    );
  }
  const auth = config.authentication;
  if (auth) {
    sources.push(
      deferred(
        "auth",
        async () =>
          new AuthPostureSource({
            domains: auth.domains ?? config.sendingDomains,
            dkimSelectors: auth.dkimSelectors,
            resolver: new NodeTxtResolver({ servers: config.dnsServers, timeoutMs: config.dnsTimeoutMs }),
          }),
      ),
    );
  }
  return sources;
}

/** A source built when it runs: building it (reading its secret) can fail like the fetch itself. */
function deferred(id: SignalSource, build: () => Promise<ReputationSource>): ReputationSource {
  return {
    id,
    collect: async (now: Date, rows?: BadRowSink): Promise<ReputationSignal[]> =>
      (await build()).collect(now, rows),
  };
}
