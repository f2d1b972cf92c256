import {
  type ReactivationOutcome,
  type SuppressionReactivator,
  statusOf,
} from "../suppression-reactivator.ts";
import type { SendgridClient, SuppressionKind } from "./sendgrid-client.ts";

/** SendGrid keeps bounces and blocks on separate lists: both are cleared (docs/sources.md#sendgrid). */
export class SendgridReactivator implements SuppressionReactivator {
  readonly provider = "sendgrid" as const;

  constructor(
    readonly label: string,
    private readonly client: SendgridClient,
  ) {}

  async reactivate(candidate: { readonly address: string }): Promise<ReactivationOutcome[]> {
    const out: ReactivationOutcome[] = [];
    for (const kind of ["bounces", "blocks"] as const satisfies readonly SuppressionKind[]) {
      const endpoint = `DELETE /v3/suppression/${kind}/{email}`;
      try {
        const r = await this.client.deleteSuppression(kind, candidate.address);
        out.push(
          r.status === "deleted"
            ? { endpoint, status: "reactivated", httpStatus: 204, detail: `removed from ${kind}` }
            : { endpoint, status: "not_suppressed", httpStatus: 404, detail: `not on ${kind}` },
        );
      } catch (e) {
        out.push({ endpoint, status: "failed", httpStatus: statusOf(e), detail: (e as Error).message });
      }
    }
    return out;
  }
}
