import { DeleteSuppressedDestinationCommand, type SESv2Client } from "@aws-sdk/client-sesv2";
import {
  type ReactivationOutcome,
  type SuppressionReactivator,
  statusOf,
} from "../suppression-reactivator.ts";

/** SESv2 DeleteSuppressedDestination: the account-level suppression list of one region. */
export class SesReactivator implements SuppressionReactivator {
  readonly provider = "ses" as const;

  constructor(
    readonly label: string,
    private readonly client: SESv2Client,
    private readonly region: string,
  ) {}

  async reactivate(candidate: { readonly address: string }): Promise<ReactivationOutcome[]> {
    const endpoint = `sesv2:DeleteSuppressedDestination (${this.region})`;
    try {
      const r = await this.client.send(
        new DeleteSuppressedDestinationCommand({ EmailAddress: candidate.address }),
      );
      return [
        {
          endpoint,
          status: "reactivated",
          httpStatus: r.$metadata.httpStatusCode ?? null,
          detail: "removed from the account's suppression list",
        },
      ];
    } catch (e) {
      const name = (e as { name?: string }).name;
      const httpStatus =
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? statusOf(e);
      if (name === "NotFoundException")
        return [{ endpoint, status: "not_suppressed", httpStatus, detail: "not on the suppression list" }];
      const hint =
        name === "AccessDeniedException" ? " (the caller needs ses:DeleteSuppressedDestination)" : "";
      return [
        {
          endpoint,
          status: "failed",
          httpStatus,
          detail: `${name ?? "Error"}: ${(e as Error).message}${hint}`,
        },
      ];
    }
  }
}
