import { getDomain } from "tldts";

/**
 * The organisation behind a recipient domain: its registrable domain under the Public Suffix List
 * (`mail.eu.acme.co.uk` → `acme.co.uk`). Falls back to the domain itself for hosts the list does not
 * cover (single-label or private names).
 */
export function organisationOf(domain: string): string {
  const d = normaliseDomain(domain);
  return getDomain(d, { allowPrivateDomains: false }) ?? d;
}

/** Lower-case, no trailing dot, IDN in punycode (so `bücher.de` and `xn--bcher-kva.de` agree). */
export function normaliseDomain(domain: string): string {
  const d = domain.trim().replace(/\.$/, "").toLowerCase();
  if (!/[^\p{ASCII}]/u.test(d)) return d;
  try {
    return new URL(`http://${d}`).hostname;
  } catch {
    return d;
  }
}

/** The domain part of an address, normalised; null when there is no `@` or nothing after it. */
export function domainOfAddress(address: string): string | null {
  const at = address.lastIndexOf("@");
  if (at < 0 || at === address.length - 1) return null;
  return normaliseDomain(address.slice(at + 1));
}
