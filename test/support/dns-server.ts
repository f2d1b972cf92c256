import { createSocket, type RemoteInfo } from "node:dgram";
import type { AddressInfo } from "node:net";
import dnsPacket, { type Answer, type DecodedPacket } from "dns-packet";

/*
 * A real DNS server on loopback UDP, so the resolver is tested against wire behaviour rather than mocks.
 * Names not in the zone answer NXDOMAIN; a name in the zone without `mx` answers NOERROR with no records
 * (nodata). Answers carry TTL 0 by default so c-ares' own query cache never hides a query from `queries`.
 * Answers stay far below 512 bytes, so node's resolver never needs the TCP fallback and there is none.
 * The zone object is read on every query, so a test may change it between lookups.
 */

export interface ZoneEntry {
  readonly mx?: ReadonlyArray<{ readonly exchange: string; readonly priority: number }>;
  /** A records (block-list answers such as 127.0.0.2). */
  readonly a?: readonly string[];
  /** TXT records, one string each. */
  readonly txt?: readonly string[];
  readonly rcode?: "NXDOMAIN" | "REFUSED" | "SERVFAIL";
  /** Never answer: the client times out. */
  readonly drop?: boolean;
}

export interface DnsServer {
  /** "127.0.0.1:<port>", ready for NodeMxResolver's `servers` or `--dns-server`. */
  readonly address: string;
  /** Every name asked for, lower-case without a trailing dot, in arrival order (drop included). */
  readonly queries: string[];
  stop(): Promise<void>;
}

const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export async function startDnsServer(
  zone: Record<string, ZoneEntry>,
  options: { readonly ttl?: number } = {},
): Promise<DnsServer> {
  const ttl = options.ttl ?? 0;
  const queries: string[] = [];
  const socket = createSocket("udp4");

  socket.on("message", (message: Buffer, from: RemoteInfo) => {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return; // Not DNS: a real server ignores it too.
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = canonical(question.name);
    queries.push(name);
    const entry = Object.entries(zone).find(([n]) => canonical(n) === name)?.[1];
    if (entry?.drop) return;

    const rcode = entry === undefined ? "NXDOMAIN" : (entry.rcode ?? "NOERROR");
    // Echo the name as asked: resolvers may randomise its case (DNS 0x20) and check it.
    const answers: Answer[] =
      rcode !== "NOERROR"
        ? []
        : question.type === "MX"
          ? (entry?.mx ?? []).map((mx) => ({
              type: "MX" as const,
              name: question.name,
              ttl,
              data: { preference: mx.priority, exchange: mx.exchange },
            }))
          : question.type === "A"
            ? (entry?.a ?? []).map((ip) => ({ type: "A" as const, name: question.name, ttl, data: ip }))
            : question.type === "TXT"
              ? (entry?.txt ?? []).map((t) => ({ type: "TXT" as const, name: question.name, ttl, data: [t] }))
              : [];
    const response = dnsPacket.encode({
      type: "response",
      id: query.id ?? 0,
      // The low four bits of the flags word are the RCODE.
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER |
        dnsPacket.RECURSION_AVAILABLE |
        (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) |
        RCODES[rcode],
      questions: [question],
      answers,
    });
    socket.send(response, from.port, from.address);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const { port } = socket.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    queries,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function canonical(name: string): string {
  return name.replace(/\.$/, "").toLowerCase();
}
