import { GATEWAYS, type GatewayId } from "./catalogue.ts";

/** Lower-cases a host name and strips a trailing dot and surrounding brackets or whitespace. */
export function normaliseHost(host: string): string {
  return host
    .trim()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
}

/**
 * The gateway vendor behind an MX (or remote MTA) host name, e.g. `mx0a-00123401.pphosted.com` → proofpoint.
 * Returns null for hosts that belong to no known gateway (self-hosted or unknown providers).
 */
export function gatewayOfMxHost(host: string): GatewayId | null {
  const h = normaliseHost(host);
  if (h.length === 0 || h.length > 253) return null;
  for (const g of GATEWAYS) {
    if (g.mxPatterns.some((p) => p.test(h))) return g.id;
  }
  return null;
}

/**
 * The gateway serving a domain, given its MX hosts (any order). The most preferred recognised host wins
 * when the caller passes them sorted by preference; otherwise the first recognised host.
 */
export function gatewayOfMxHosts(hosts: readonly string[]): GatewayId | null {
  for (const host of hosts) {
    const g = gatewayOfMxHost(host);
    if (g) return g;
  }
  return null;
}
