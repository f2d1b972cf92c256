import type { SuppressionCandidate } from "../../../domain/suppressions/wrongly-suppressed.ts";
import {
  type ReactivationOutcome,
  type SuppressionReactivator,
  statusOf,
} from "../suppression-reactivator.ts";
import { postmarkBounceIdOf } from "./map-postmark-bounce.ts";
import type { PostmarkClient } from "./postmark-client.ts";

/**
 * Postmark re-activates by bounce, not by address: `PUT /bounces/{id}/activate` for the address's last bounce
 * (Postmark deactivates on that one), after checking CanActivate (https://postmarkapp.com/developer/api/bounce-api).
 */
export class PostmarkReactivator implements SuppressionReactivator {
  readonly provider = "postmark" as const;

  constructor(
    readonly label: string,
    private readonly client: PostmarkClient,
  ) {}

  async reactivate(candidate: SuppressionCandidate): Promise<ReactivationOutcome[]> {
    const id = [...candidate.bounceEventIds]
      .reverse()
      .map(postmarkBounceIdOf)
      .find((b) => b !== null);
    if (!id) {
      return [
        {
          endpoint: "PUT /bounces/{id}/activate",
          status: "failed",
          httpStatus: null,
          detail: "no Postmark bounce id among this address's events (imported from another format?)",
        },
      ];
    }
    const endpoint = `PUT /bounces/${id}/activate`;
    try {
      const r = await this.client.activateBounce(id);
      if (r.status === "activated")
        return [{ endpoint, status: "reactivated", httpStatus: 200, detail: r.message ?? "activated" }];
      if (r.status === "not_found")
        return [
          { endpoint, status: "not_suppressed", httpStatus: 404, detail: r.message ?? "bounce not found" },
        ];
      return [
        {
          endpoint,
          status: "refused",
          httpStatus: 422,
          detail: `Postmark will not re-activate it: ${r.message ?? "CanActivate is false"}`,
        },
      ];
    } catch (e) {
      return [{ endpoint, status: "failed", httpStatus: statusOf(e), detail: (e as Error).message }];
    }
  }
}
