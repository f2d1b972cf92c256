import { SESv2Client } from "@aws-sdk/client-sesv2";
import type { SourceConfig } from "../../config.ts";
import type { SecretResolver } from "../../secrets/secret-resolver.ts";
import { MailgunReactivator } from "./mailgun/mailgun-suppressions.ts";
import { PostmarkClient } from "./postmark/postmark-client.ts";
import { PostmarkReactivator } from "./postmark/postmark-suppressions.ts";
import { SendgridClient } from "./sendgrid/sendgrid-client.ts";
import { SendgridReactivator } from "./sendgrid/sendgrid-suppressions.ts";
import { SesReactivator } from "./ses/ses-suppressions.ts";
import type { SuppressionReactivator } from "./suppression-reactivator.ts";

export interface ReactivatorDeps {
  readonly secrets: SecretResolver;
  readonly log: (line: string) => void;
  readonly http?: { readonly sleep?: (ms: number) => Promise<void>; readonly maxAttempts?: number };
}

/**
 * A reactivator per configured source whose ESP has a suppression API: Mailgun (bounces per sending domain),
 * SES (the account's list; endpoint from AWS_ENDPOINT_URL_SESV2 in tests), SendGrid (bounces and blocks,
 * needs apiKeySecret) and Postmark (bounce activation). SparkPost sources are skipped: its suppression list is
 * not part of this repair yet.
 */
export async function configuredReactivators(
  sources: readonly SourceConfig[],
  deps: ReactivatorDeps,
): Promise<SuppressionReactivator[]> {
  const http = deps.http ?? {};
  const out: SuppressionReactivator[] = [];
  for (const s of sources) {
    if (s.provider === "mailgun") {
      if (s.domains.length === 0) {
        deps.log(`suppressions: ${s.id}: no sending domains configured, so no Mailgun bounce list to clear`);
        continue;
      }
      const key = await deps.secrets.resolve(s.apiKeySecret);
      out.push(
        new MailgunReactivator({
          label: s.id,
          apiKey: key.value,
          region: s.region,
          domains: s.domains,
          ...(s.baseUrl ? { baseUrl: s.baseUrl } : {}),
          ...http,
        }),
      );
    } else if (s.provider === "ses") {
      out.push(new SesReactivator(s.id, new SESv2Client({ region: s.region }), s.region));
    } else if (s.provider === "sendgrid") {
      if (!s.apiKeySecret) {
        deps.log(`suppressions: ${s.id}: no apiKeySecret, so SendGrid's lists cannot be changed`);
        continue;
      }
      const key = await deps.secrets.resolve(s.apiKeySecret);
      const client = new SendgridClient({
        apiKey: key.value,
        region: s.region,
        ...(s.baseUrl ? { baseUrl: s.baseUrl } : {}),
        ...http,
      });
      out.push(new SendgridReactivator(s.id, client));
    } else if (s.provider === "postmark") {
      const token = await deps.secrets.resolve(s.serverTokenSecret);
      const client = new PostmarkClient({
        serverToken: token.value,
        ...(s.baseUrl ? { baseUrl: s.baseUrl } : {}),
        ...http,
      });
      out.push(new PostmarkReactivator(s.id, client));
    }
  }
  return out;
}
