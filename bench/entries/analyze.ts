/**
 * Bundle-size proxy for the analyze Lambda until functions/analyze/handler.ts exists: it pulls in what that
 * handler will run (analysis, alerts, SNS, MX lookups, the S3 store), so the bundle and its load time are close
 * to the real function's. Not deployed; only `npm run bench` bundles it.
 */
import { z } from "zod";
import { GatewayLookup } from "../../shared/dns/gateway-lookup.ts";
import { NodeMxResolver } from "../../shared/dns/mx-resolver.ts";
import { AlertPolicySchema } from "../../shared/domain/alerts/incident-lifecycle.ts";
import { SnsNotifier } from "../../shared/notify/sns-notifier.ts";
import { runAlerts } from "../../shared/pipeline/alerts/run-alerts.ts";
import { runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { S3ObjectStore } from "../../shared/store/s3-object-store.ts";

const EnvSchema = z.object({ BUCKET: z.string().min(1), TOPIC_ARN: z.string().min(1) });

export async function handler(): Promise<{ incidents: number; alerts: number }> {
  const env = EnvSchema.parse(process.env);
  const store = new S3ObjectStore({ bucket: env.BUCKET });
  const now = () => new Date();
  const log = (line: string) => console.log(line);
  const gateways = new GatewayLookup(new NodeMxResolver({ timeoutMs: 2000 }), store, { now });
  await gateways.load();
  const run = await runAnalysis(
    { at: now(), windowHours: 24, baselineDays: 28, maskRecipients: true },
    { store, gateways, now, log },
  );
  const alerts = await runAlerts(run.report, {
    store,
    notifier: new SnsNotifier({ topicArn: env.TOPIC_ARN }),
    policy: AlertPolicySchema.parse({}),
    now,
    log,
    reportUri: `${store.location}/${run.keys[0] ?? ""}`,
  });
  return { incidents: run.report.incidents.length, alerts: alerts.sent.length };
}
