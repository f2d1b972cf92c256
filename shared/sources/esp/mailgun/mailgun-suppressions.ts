import { ProviderHttpClient, type ProviderHttpOptions } from "../../../http/provider-http-client.ts";
import {
  type ReactivationOutcome,
  type SuppressionReactivator,
  statusOf,
} from "../suppression-reactivator.ts";
import { MAILGUN_BASE_URLS, type MailgunRegion } from "./mailgun-client.ts";

export interface MailgunReactivatorOptions
  extends Omit<ProviderHttpOptions, "provider" | "secrets" | "authHint"> {
  readonly label: string;
  readonly apiKey: string;
  readonly region: MailgunRegion;
  /** Mailgun keeps a bounce list per sending domain: each is asked. */
  readonly domains: readonly string[];
  readonly baseUrl?: string;
}

/** `DELETE /v3/{domain}/bounces/{address}` on every sending domain (docs/sources.md#mailgun). */
export class MailgunReactivator implements SuppressionReactivator {
  readonly provider = "mailgun" as const;
  readonly label: string;
  private readonly http: ProviderHttpClient;
  private readonly base: string;
  private readonly authorization: string;

  constructor(private readonly options: MailgunReactivatorOptions) {
    this.label = options.label;
    this.base = (options.baseUrl ?? MAILGUN_BASE_URLS[options.region]).replace(/\/+$/, "");
    this.authorization = `Basic ${Buffer.from(`api:${options.apiKey}`).toString("base64")}`;
    this.http = new ProviderHttpClient({
      ...options,
      provider: "Mailgun",
      secrets: [options.apiKey, this.authorization],
      authHint: "the key needs access to the domain's suppressions",
    });
  }

  async reactivate(candidate: { readonly address: string }): Promise<ReactivationOutcome[]> {
    const out: ReactivationOutcome[] = [];
    for (const domain of this.options.domains) {
      const endpoint = `DELETE /v3/${domain}/bounces/{address}`;
      try {
        const r = await this.http.request({
          method: "DELETE",
          url: new URL(
            `${this.base}/v3/${encodeURIComponent(domain)}/bounces/${encodeURIComponent(candidate.address)}`,
          ),
          headers: { Authorization: this.authorization },
          acceptStatuses: [404],
          parse: (_text, status) => status,
        });
        out.push({
          endpoint,
          status: r.status === 404 ? "not_suppressed" : "reactivated",
          httpStatus: r.status,
          detail: r.status === 404 ? "not on this domain's bounce list" : "removed from the bounce list",
        });
      } catch (e) {
        out.push({ endpoint, status: "failed", httpStatus: statusOf(e), detail: (e as Error).message });
      }
    }
    return out;
  }
}
