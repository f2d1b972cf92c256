/**
 * Bundle-size proxy for the ingest-events Lambda until functions/ingest-events/handler.ts exists: it pulls in
 * what that handler will run (config, secrets, SQS, the ingest pipeline, the S3 store), so the bundle and its
 * load time are close to the real function's. Not deployed; only `npm run bench` bundles it.
 */
import { z } from "zod";
import { parseConfig } from "../../shared/config.ts";
import { runIngest } from "../../shared/pipeline/ingest/run-ingest.ts";
import { LocalSecretResolver } from "../../shared/secrets/secret-resolver.ts";
import { SqsQueue } from "../../shared/sources/esp/ses/sqs-queue.ts";
import { S3ObjectStore } from "../../shared/store/s3-object-store.ts";

const EnvSchema = z.object({ BUCKET: z.string().min(1), CONFIG_JSON: z.string().min(1) });

export async function handler(): Promise<{ sources: number; failed: number }> {
  const env = EnvSchema.parse(process.env);
  const config = parseConfig(JSON.parse(env.CONFIG_JSON), "CONFIG_JSON");
  const results = await runIngest(config.sources, {
    store: new S3ObjectStore({ bucket: env.BUCKET }),
    secrets: new LocalSecretResolver(process.env),
    now: () => new Date(),
    log: (line) => console.log(line),
    sqsQueue: (source) =>
      new SqsQueue({ queueUrl: source.queueUrl, waitTimeSeconds: source.waitTimeSeconds }),
  });
  return { sources: results.length, failed: results.filter((r) => r.error !== undefined).length };
}
