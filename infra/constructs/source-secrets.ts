import { createHash } from "node:crypto";
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { Config } from "../../shared/config.ts";

/**
 * The secrets each job reads: ESP keys for ingest (SES reads its queue with the role); for reputation the DQS
 * key and the Postmaster, SNDS, SendGrid and SparkPost credentials.
 */
export function secretNamesOf(config: Config): { ingestEvents: string[]; ingestReputation: string[] } {
  const esp = config.sources.flatMap((s) => {
    if (s.provider === "mailgun" || s.provider === "sparkpost") return [s.apiKeySecret];
    if (s.provider === "postmark") return [s.serverTokenSecret];
    if (s.provider === "sendgrid") return s.apiKeySecret ? [s.apiKeySecret] : [];
    return [];
  });
  const r = config.reputation;
  const reputation = [
    r?.spamhausDqsKeySecret,
    r?.postmaster?.credentialsSecret,
    r?.snds?.keySecret,
    r?.sendgrid?.apiKeySecret,
    r?.sparkpost?.apiKeySecret,
  ].filter((n): n is string => n !== undefined);
  return { ingestEvents: [...new Set(esp)].sort(), ingestReputation: [...new Set(reputation)].sort() };
}

/**
 * Provider credentials in Secrets Manager. A name in the config creates the secret (with a placeholder value
 * the user replaces with the API key); an ARN references a secret the user already has.
 */
export class SourceSecrets extends Construct {
  readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;

  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id);
    const secrets = new Map<string, secretsmanager.ISecret>();
    const { ingestEvents, ingestReputation } = secretNamesOf(config);
    for (const name of new Set([...ingestEvents, ...ingestReputation])) {
      // Keyed by the name, never by a position: adding a source must not shift (and so replace) another secret.
      if (name.startsWith("arn:")) {
        secrets.set(
          name,
          secretsmanager.Secret.fromSecretCompleteArn(this, `Imported ${constructIdOf(name)}`, name),
        );
        continue;
      }
      const secret = new secretsmanager.Secret(this, `Secret ${constructIdOf(name)}`, {
        secretName: name,
        description: `bounce-radar: provider key. Replace the generated placeholder: aws secretsmanager put-secret-value --secret-id ${name} --secret-string <key>`,
        // The user fills it in by hand: deleting the stack, or a future change of its id, must not delete it.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "An ESP API key is issued by the ESP; Secrets Manager cannot rotate it. Rotate it at the ESP and put the new value.",
      });
      secrets.set(name, secret);
    }
    this.secrets = secrets;
  }
}

/** A construct id for a secret name or ARN: "/" separates construct paths, and never appears otherwise in one. */
function constructIdOf(name: string): string {
  return name.replaceAll("/", "|");
}

/** A stable CloudFormation output id for a secret name: its letters and digits plus a hash of the whole name. */
export function outputIdOf(name: string): string {
  const letters = name.replace(/[^A-Za-z0-9]/g, "").slice(0, 200);
  return `Secret${letters}${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}
