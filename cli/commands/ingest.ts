import { existsSync } from "node:fs";
import { join } from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type Config, ConfigError, loadConfigFile, type ReputationConfig } from "../../shared/config.ts";
import { formatNotes, sumNotes } from "../../shared/pipeline/ingest/ingest-batch.ts";
import { runIngest, type SourceRunResult } from "../../shared/pipeline/ingest/run-ingest.ts";
import { runConfiguredReputation } from "../../shared/pipeline/reputation/run-reputation.ts";
import type { SecretResolver } from "../../shared/secrets/secret-resolver.ts";
import { LocalSecretResolver } from "../../shared/secrets/secret-resolver.ts";
import { SqsQueue } from "../../shared/sources/esp/ses/sqs-queue.ts";
import type { ObjectStore } from "../../shared/store/object-store.ts";
import { withJobLease } from "../lib/job-lease.ts";
import { openDataFolder } from "../lib/local-store.ts";

/** The file the README's quick start creates; the CLI looks for it when no --config is given. */
export const DEFAULT_CONFIG_FILE = "bounce-radar.config.json";
/** The name earlier versions looked for, still read when the default is absent. */
export const OLD_DEFAULT_CONFIG_FILE = "bounce-radar.json";

export async function loadCliConfig(path: string | undefined, dir = "."): Promise<Config> {
  const file =
    path ??
    [DEFAULT_CONFIG_FILE, OLD_DEFAULT_CONFIG_FILE].map((name) => join(dir, name)).find((f) => existsSync(f));
  if (!file) {
    throw new ConfigError(
      `no configuration: pass --config FILE or create ${DEFAULT_CONFIG_FILE} here (see docs/configuration.md)`,
    );
  }
  return loadConfigFile(file);
}

/**
 * One scheduled ingest run on a laptop: every configured source, then reputation, into the --data folder,
 * holding the folder's ingest-events lease (as the Lambda does) so two runs never fetch into it at once.
 */
export async function ingestCommand(
  dataDir: string,
  config: Config,
  log: (line: string) => void,
  waitMs = 0,
): Promise<SourceRunResult[]> {
  if (config.sources.length === 0 && !config.reputation)
    log("ingest: the configuration lists no sources and no reputation checks; nothing to do");
  const store = await openDataFolder(dataDir);
  return withJobLease(store, "ingest-events", { command: "ingest", waitMs, log }, () =>
    ingestInto(store, config, log),
  );
}

async function ingestInto(
  store: ObjectStore,
  config: Config,
  log: (line: string) => void,
): Promise<SourceRunResult[]> {
  const secrets = new LocalSecretResolver(process.env, config.secretsFile);
  const results = await runIngest(config.sources, {
    store,
    secrets,
    now: () => new Date(),
    log,
    sqsQueue: (s) =>
      new SqsQueue({
        queueUrl: s.queueUrl,
        client: new SQSClient({ region: s.region, ...(s.endpoint ? { endpoint: s.endpoint } : {}) }),
        waitTimeSeconds: s.waitTimeSeconds,
        // Long enough to write a full batch before the messages become visible again.
        visibilityTimeout: 900,
      }),
  });
  if (config.reputation) results.push(...(await reputationCommand(store, config.reputation, secrets, log)));
  return results;
}

/** Reputation sources as more "sources" of the run: each fails on its own without stopping the others. */
async function reputationCommand(
  store: ObjectStore,
  reputation: ReputationConfig,
  secrets: SecretResolver,
  log: (line: string) => void,
): Promise<SourceRunResult[]> {
  const run = await runConfiguredReputation(reputation, { store, secrets, now: () => new Date(), log });
  const results: SourceRunResult[] = [];
  if (run.blocklists) {
    const b = run.blocklists;
    log(
      `reputation: ${b.observations.length} block-list check(s): ${b.listed} listed, ${b.unknown} unknown → ${b.key}`,
    );
    results.push({ sourceId: "reputation:dnsbl", batches: [] });
  } else if (run.blocklistError !== null) {
    results.push({ sourceId: "reputation:dnsbl", batches: [], error: run.blocklistError });
  }
  for (const s of run.sources) {
    results.push({
      sourceId: `reputation:${s.source}`,
      batches: [],
      ...(s.outcome === "failed" ? { error: s.error ?? "failed" } : {}),
    });
  }
  return results;
}

export function formatIngestSummary(results: readonly SourceRunResult[]): string[] {
  return results.map((r) => {
    const sum = (f: (b: SourceRunResult["batches"][number]) => number): number =>
      r.batches.reduce((a, b) => a + f(b), 0);
    const status = r.error ? `FAILED (${r.error}); cursor left at the last written batch` : "ok";
    return `ingest ${r.sourceId}: ${status}: ${r.batches.length} batch(es), read ${sum((b) => b.records)} record(s), wrote ${sum((b) => b.added)} new event(s), ${sum((b) => b.duplicates)} duplicate(s) skipped, ${sum((b) => b.quarantined)} quarantined${formatNotes(sumNotes(r.batches))}`;
  });
}
