import { Resolver } from "node:dns/promises";
import type { DnsAnswer } from "../domain/reputation/blocklist-answer.ts";
import { lookupFailure, parseDnsServer } from "./mx-resolver.ts";

/** The DNS port for block lists: A and TXT lookups that never throw for DNS failures. */
export interface BlocklistResolver {
  a(name: string): Promise<DnsAnswer>;
  /** The list's human-readable reason, if it publishes one. */
  txt(name: string): Promise<string | null>;
}

export interface NodeBlocklistResolverOptions {
  readonly servers?: readonly string[];
  readonly timeoutMs?: number;
  readonly tries?: number;
}

export class NodeBlocklistResolver implements BlocklistResolver {
  private readonly resolver: Resolver;

  constructor(options: NodeBlocklistResolverOptions = {}) {
    this.resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
    if (options.servers && options.servers.length > 0)
      this.resolver.setServers(options.servers.map(parseDnsServer));
  }

  async a(name: string): Promise<DnsAnswer> {
    try {
      return { status: "ok", addresses: await this.resolver.resolve4(name) };
    } catch (e) {
      const f = lookupFailure(e);
      return { status: f.status, addresses: [], ...(f.detail ? { detail: f.detail } : {}) };
    }
  }

  async txt(name: string): Promise<string | null> {
    try {
      const records = await this.resolver.resolveTxt(name);
      const text = records
        .map((chunks) => chunks.join(""))
        .join(" ")
        .trim();
      return text === "" ? null : text;
    } catch {
      return null;
    }
  }
}
