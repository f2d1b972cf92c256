import { existsSync } from "node:fs";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type Config, ConfigError, loadConfigFile } from "../../shared/config.ts";
import { runIngest, type SourceRunResult } from "../../shared/pipeline/ingest/run-ingest.ts";
import { LocalSecretResolver } from "../../shared/secrets/secret-resolver.ts";
import { SqsQueue } from "../../shared/sources/esp/ses/sqs-queue.ts";
import { openDataFolder } from "../lib/local-store.ts";

export const DEFAULT_CONFIG_FILE = "bounce-radar.json";

export async function loadCliConfig(path: string | undefined): Promise<Config> {
  const file = path ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (!file) {
    throw new ConfigError(
      `no configuration: pass --config FILE or create ${DEFAULT_CONFIG_FILE} here (see README "Configuration")`,
    );
  }
  return loadConfigFile(file);
}

/** One scheduled ingest run on a laptop: every configured source, into the --data folder. */
export async function ingestCommand(
  dataDir: string,
  config: Config,
  log: (line: string) => void,
): Promise<SourceRunResult[]> {
  if (config.sources.length === 0) log("ingest: the configuration lists no sources; nothing to do");
  const store = await openDataFolder(dataDir);
  return runIngest(config.sources, {
    store,
    secrets: new LocalSecretResolver(process.env, config.secretsFile),
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
}

export function formatIngestSummary(results: readonly SourceRunResult[]): string[] {
  return results.map((r) => {
    const sum = (f: (b: SourceRunResult["batches"][number]) => number): number =>
      r.batches.reduce((a, b) => a + f(b), 0);
    const status = r.error ? `FAILED (${r.error}); cursor left at the last written batch` : "ok";
    return `ingest ${r.sourceId}: ${status}: ${r.batches.length} batch(es), read ${sum((b) => b.records)} record(s), wrote ${sum((b) => b.added)} new event(s), ${sum((b) => b.duplicates)} duplicate(s) skipped, ${sum((b) => b.quarantined)} quarantined`;
  });
}
