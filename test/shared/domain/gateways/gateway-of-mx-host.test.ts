import { describe, expect, it } from "vitest";
import { GATEWAYS, type GatewayId } from "../../../../shared/domain/gateways/catalogue.ts";
import { gatewayOfMxHost, gatewayOfMxHosts } from "../../../../shared/domain/gateways/gateway-of-mx-host.ts";

// Real-world MX host shapes from docs/sources.md#gateway-fingerprints.
const CASES: ReadonlyArray<readonly [string, GatewayId]> = [
  ["acme-com.mail.protection.outlook.com", "microsoft365"],
  ["acme-com.l-v1.mx.microsoft", "microsoft365"],
  ["hotmail-com.olc.protection.outlook.com", "outlook_com"],
  ["aspmx.l.google.com", "google_workspace"],
  ["alt1.aspmx.l.google.com", "google_workspace"],
  ["aspmx2.googlemail.com", "google_workspace"],
  ["smtp.google.com", "google_workspace"],
  ["gmail-smtp-in.l.google.com", "gmail"],
  ["mta5.am0.yahoodns.net", "yahoo"],
  ["mx01.mail.icloud.com", "icloud"],
  ["mx0a-00123401.pphosted.com", "proofpoint"],
  ["mx0b-00123401.pphosted.com.", "proofpoint"],
  ["mx1-us1.ppe-hosted.com", "proofpoint"],
  ["us-smtp-inbound-1.mimecast.com", "mimecast"],
  ["za-smtp-inbound-1.mimecast.co.za", "mimecast"],
  ["d62077b.ess.barracudanetworks.com", "barracuda"],
  ["mx1.hc1234-56.iphmx.com", "cisco"],
  ["mx.us.etd.cisco.com", "cisco"],
  ["cluster1.us.messagelabs.com", "broadcom"],
  ["acme.in.tmes.trendmicro.com", "trend_micro"],
  ["in.hes.trendmicro.eu", "trend_micro"],
  ["mx-01-us-west-2.prod.hydra.sophos.com", "sophos"],
  ["acme.email.fireeyecloud.com", "trellix"],
  ["mx01.hornetsecurity.com", "hornetsecurity"],
  ["hsmx01.antispameurope.com", "hornetsecurity"],
  ["cluster-a.mailcontrol.com", "forcepoint"],
  ["acme.fortimailcloud.com", "fortimail"],
  ["mx.spamexperts.com", "spamexperts"],
  ["mailstream-east.mxrecord.io", "cloudflare"],
  ["route1.mx.cloudflare.net", "cloudflare"],
  ["mx1.emailsrvr.com", "rackspace"],
  ["smtp.secureserver.net", "godaddy"],
  ["MX.ZOHO.COM", "zoho"],
];

describe("gatewayOfMxHost", () => {
  it.each(CASES)("%s → %s", (host, gateway) => {
    expect(gatewayOfMxHost(host)).toBe(gateway);
  });

  it("covers every gateway in the catalogue with at least one pattern", () => {
    for (const g of GATEWAYS) expect(g.mxPatterns.length).toBeGreaterThan(0);
  });

  it("returns null for self-hosted and look-alike hosts", () => {
    expect(gatewayOfMxHost("mail.acme.example")).toBeNull();
    expect(gatewayOfMxHost("pphosted.com.evil.example")).toBeNull();
    expect(gatewayOfMxHost("notmimecast.example")).toBeNull();
    expect(gatewayOfMxHost("")).toBeNull();
  });

  it("takes the first recognised host of a preference-ordered MX set", () => {
    expect(
      gatewayOfMxHosts(["mail.acme.example", "mx0a-1.pphosted.com", "us-smtp-inbound-1.mimecast.com"]),
    ).toBe("proofpoint");
    expect(gatewayOfMxHosts([])).toBeNull();
  });
});
