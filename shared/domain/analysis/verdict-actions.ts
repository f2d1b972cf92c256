import type { Verdict } from "../report/report-schema.ts";

/** Next steps per verdict: what an ops engineer should do in the next hour. */
export function actionsFor(
  verdict: Verdict,
  scope: { domains: string[]; gateways: string[]; sendingIps: string[] },
): string[] {
  const domains = scope.domains.slice(0, 5).join(", ");
  const ips = scope.sendingIps.join(", ");
  switch (verdict) {
    case "recipient_filter":
      return [
        "Do not migrate ESPs or blame the ESP: the rejections come from the recipients' gateway, not from your sending side.",
        "Confirm with the ESP that your sending reputation is fine (no listings, normal consumer-mailbox delivery).",
        `Contact the IT/postmaster team of ${domains || "the affected organisations"} through a known-good address (not email to the blocked domain) and send them a sample rejection line from this report.`,
        "Pause, do not delete, the addresses suppressed in this incident; re-enable them once the recipient fixes its policy or directory.",
      ];
    case "sender_reputation":
      return [
        `Check block lists for ${ips || "your sending IPs"} and your sending domain (Spamhaus, Barracuda, Proofpoint, Microsoft SNDS) and follow each delisting procedure.`,
        "Move traffic off the affected IP or pool with your ESP while delisting; slow down and send only to engaged recipients.",
        "Find what triggered the listing (a purchased or stale list, a compromised account, a complaint spike) before resuming volume.",
      ];
    case "sender_authentication":
      return [
        "Check SPF, DKIM and DMARC alignment for the From domain of the affected mail (a DNS change, an expired DKIM key, a new sending service).",
        "Send a test message to a Gmail and an Outlook.com mailbox and read the Authentication-Results header.",
        "Hold the affected stream until authentication passes; the suppressed addresses are not invalid.",
      ];
    case "content_block":
      return [
        "Stop the affected campaign and look at its links and attachments: a URL on a block list or a shortener is the usual cause.",
        "Test the message through a seed list and content scanner before resending; the rejected addresses are not invalid.",
      ];
    case "esp_fault":
      return [
        `Open a ticket with the ESP: sends via ${ips || "part of the IP pool"} fail inside the ESP with no reply from the receiving servers.`,
        "Ask the ESP to re-queue or retry the failed messages and to unsuppress the addresses it marked as bounced.",
      ];
    case "list_decay":
      return [
        "Genuine invalid addresses (people who left, typos): let the suppression stand and review how these addresses were collected or when they were last verified.",
      ];
    default:
      return [
        "Review the sample rejection lines; the evidence was not enough to decide which side caused this.",
      ];
  }
}
