import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";

/**
 * ok: the domain has MX records (hosts may be empty for a null MX, RFC 7505: "accepts no mail").
 * nxdomain: the name does not exist. nodata: the name exists but has no MX. refused / timeout / error: the
 * lookup failed and says nothing about the domain.
 */
export const MX_STATUSES = ["ok", "nxdomain", "nodata", "refused", "timeout", "error"] as const;
export type MxStatus = (typeof MX_STATUSES)[number];

export interface MxAnswer {
  readonly status: MxStatus;
  /** Sorted by preference then name; lower-case, no trailing dot, no duplicates. Empty unless status is ok. */
  readonly hosts: string[];
  /** Why a lookup failed (the resolver's code and message), or a note such as a null MX. */
  readonly detail?: string;
}

/** The DNS port: MX lookups that never throw for DNS failures, so one bad domain cannot stop a run. */
export interface MxResolver {
  mx(domain: string): Promise<MxAnswer>;
}

export interface NodeMxResolverOptions {
  /** Name servers as "HOST", "HOST:PORT", "[IPv6]" or "[IPv6]:PORT" (see parseDnsServer); default: the system's. */
  readonly servers?: readonly string[];
  /** Per-try timeout (default 2000 ms). */
  readonly timeoutMs?: number;
  /** Tries per server (default 2). */
  readonly tries?: number;
}

/**
 * Validates a `--dns-server HOST:PORT` value and returns it in the form node's resolver accepts
 * ("127.0.0.1:5353", "[::1]:5353", "127.0.0.1", "::1"). Node only takes IP addresses, so host names are
 * refused here with a message rather than later by the resolver.
 */
export function parseDnsServer(value: string): string {
  const v = value.trim();
  const fail = (why: string): never => {
    throw new Error(
      `invalid DNS server ${JSON.stringify(value)}: ${why} (want HOST or HOST:PORT, an IP address; IPv6 as [ADDR]:PORT)`,
    );
  };
  if (v.length === 0) return fail("empty");

  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(v);
  if (bracketed) {
    host = bracketed[1] ?? "";
    port = bracketed[2];
    if (isIP(host) !== 6) return fail(`${JSON.stringify(host)} is not an IPv6 address`);
  } else if (isIP(v) === 6) {
    // A bare IPv6 address: its colons are not a port separator.
    return v;
  } else {
    const colon = v.lastIndexOf(":");
    host = colon < 0 ? v : v.slice(0, colon);
    port = colon < 0 ? undefined : v.slice(colon + 1);
    if (host.includes(":")) return fail("an IPv6 address with a port must be written [ADDR]:PORT");
    if (isIP(host) !== 4) return fail(`${JSON.stringify(host)} is not an IP address`);
  }

  if (port === undefined) return host;
  if (!/^\d{1,5}$/.test(port)) return fail(`port ${JSON.stringify(port)} is not a number`);
  const n = Number(port);
  if (n < 1 || n > 65535) return fail(`port ${n} is out of range 1-65535`);
  return isIP(host) === 6 ? `[${host}]:${n}` : `${host}:${n}`;
}

/** MX lookups through node's c-ares resolver (UDP, falling back to TCP on truncation). */
export class NodeMxResolver implements MxResolver {
  private readonly resolver: Resolver;

  constructor(options: NodeMxResolverOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 2000;
    const tries = options.tries ?? 2;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
      throw new Error(`invalid DNS timeout: ${timeoutMs} ms`);
    if (!Number.isInteger(tries) || tries < 1) throw new Error(`invalid DNS tries: ${tries}`);
    this.resolver = new Resolver({ timeout: timeoutMs, tries });
    if (options.servers && options.servers.length > 0) {
      this.resolver.setServers(options.servers.map(parseDnsServer));
    }
  }

  async mx(domain: string): Promise<MxAnswer> {
    let records: { exchange: string; priority: number }[];
    try {
      records = await this.resolver.resolveMx(domain);
    } catch (e) {
      return failure(e);
    }
    return fromRecords(records);
  }

  /** Aborts queries in flight (they answer with status error); for shutting down early. */
  cancel(): void {
    this.resolver.cancel();
  }
}

/** Sorts by preference then name and drops the null MX ("." → ""), which names no host. */
function fromRecords(records: readonly { exchange: string; priority: number }[]): MxAnswer {
  const byHost = new Map<string, number>();
  for (const r of records) {
    const host = r.exchange.trim().replace(/\.$/, "").toLowerCase();
    if (host.length === 0) continue;
    // A host listed twice counts at its best preference.
    const seen = byHost.get(host);
    if (seen === undefined || r.priority < seen) byHost.set(host, r.priority);
  }
  const hosts = [...byHost]
    .sort(([ha, pa], [hb, pb]) => pa - pb || (ha < hb ? -1 : ha > hb ? 1 : 0))
    .map(([host]) => host);
  if (hosts.length === 0 && records.length > 0) {
    return { status: "ok", hosts: [], detail: "null MX (RFC 7505): the domain accepts no mail" };
  }
  if (hosts.length === 0) return { status: "nodata", hosts: [] };
  return { status: "ok", hosts };
}

function failure(e: unknown): MxAnswer {
  const { status, detail } = lookupFailure(e);
  return detail === undefined ? { status, hosts: [] } : { status, hosts: [], detail };
}

/** How a failed c-ares lookup reads: no such name, no such record, or a failure that says nothing about the name. */
export function lookupFailure(e: unknown): { status: MxStatus; detail?: string } {
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
  const message = e instanceof Error ? e.message : String(e);
  const detail = code && !message.includes(code) ? `${code}: ${message}` : message;
  switch (code) {
    case "ENOTFOUND":
      return { status: "nxdomain" };
    case "ENODATA":
      return { status: "nodata" };
    case "EREFUSED":
      return { status: "refused", detail };
    // No answer at all: the server is silent (ETIMEOUT) or not listening (ECONNREFUSED on UDP).
    case "ETIMEOUT":
    case "ECONNREFUSED":
      return { status: "timeout", detail };
    default:
      return { status: "error", detail };
  }
}
