import { Resolver } from "node:dns/promises";
import type { TxtAnswer } from "../domain/reputation/auth-records.ts";
import { lookupFailure, parseDnsServer } from "./mx-resolver.ts";

export type { TxtAnswer, TxtStatus } from "../domain/reputation/auth-records.ts";

/** The DNS port for authentication records: TXT lookups that never throw for DNS failures. */
export interface TxtResolver {
  /** The name servers asked ("127.0.0.1:5353"), for error messages; absent when not known. */
  readonly servers?: readonly string[];
  txt(name: string): Promise<TxtAnswer>;
}

export interface NodeTxtResolverOptions {
  /** Name servers as "HOST", "HOST:PORT", "[IPv6]" or "[IPv6]:PORT" (see parseDnsServer); default: the system's. */
  readonly servers?: readonly string[];
  /** Per-try timeout (default 2000 ms). */
  readonly timeoutMs?: number;
  /** Tries per server (default 2). */
  readonly tries?: number;
}

/** TXT lookups through node's c-ares resolver (UDP, falling back to TCP on truncation). */
export class NodeTxtResolver implements TxtResolver {
  private readonly resolver: Resolver;
  readonly servers: readonly string[];

  constructor(options: NodeTxtResolverOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 2000;
    const tries = options.tries ?? 2;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
      throw new Error(`invalid DNS timeout: ${timeoutMs} ms`);
    if (!Number.isInteger(tries) || tries < 1) throw new Error(`invalid DNS tries: ${tries}`);
    this.resolver = new Resolver({ timeout: timeoutMs, tries });
    if (options.servers && options.servers.length > 0) {
      this.resolver.setServers(options.servers.map(parseDnsServer));
    }
    this.servers = this.resolver.getServers();
  }

  async txt(name: string): Promise<TxtAnswer> {
    let chunks: string[][];
    try {
      chunks = await this.resolver.resolveTxt(name);
    } catch (e) {
      const { status, detail } = lookupFailure(e);
      return detail === undefined ? { status, records: [] } : { status, records: [], detail };
    }
    // A record longer than 255 bytes (any 2048-bit DKIM key) arrives as several strings that form one value.
    const records = chunks.map((c) => c.join(""));
    return records.length === 0 ? { status: "nodata", records: [] } : { status: "ok", records };
  }

  /** Aborts queries in flight (they answer with status error); for shutting down early. */
  cancel(): void {
    this.resolver.cancel();
  }
}
