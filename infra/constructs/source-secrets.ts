import { Validations } from "aws-cdk-lib";
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
    for (const [i, name] of [...new Set([...ingestEvents, ...ingestReputation])].sort().entries()) {
      if (name.startsWith("arn:")) {
        secrets.set(name, secretsmanager.Secret.fromSecretCompleteArn(this, `Imported${i}`, name));
        continue;
      }
      const secret = new secretsmanager.Secret(this, `Secret${i}`, {
        secretName: name,
        description: `bounce-radar: provider key. Replace the generated placeholder: aws secretsmanager put-secret-value --secret-id ${name} --secret-string <key>`,
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
