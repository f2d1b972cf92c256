import type { MxAnswer, MxResolver } from "../dns/mx-resolver.ts";

export type MxZone = Readonly<Record<string, { mx: ReadonlyArray<{ exchange: string; priority: number }> }>>;

/**
 * DNS for a simulated world: MX answers from the zone the world publishes, NXDOMAIN for anything else. The
 * demo uses it so a laptop without network (or with a resolver that does not know the invented domains)
 * attributes gateways the way a real run would.
 */
export class ZoneMxResolver implements MxResolver {
  constructor(private readonly zone: MxZone) {}

  async mx(domain: string): Promise<MxAnswer> {
    const entry = this.zone[domain.toLowerCase().replace(/\.$/, "")];
    if (!entry) return { status: "nxdomain", hosts: [] };
    if (entry.mx.length === 0) return { status: "nodata", hosts: [] };
    const hosts = [...entry.mx]
      .sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange))
      .map((m) => m.exchange.toLowerCase().replace(/\.$/, ""));
    return { status: "ok", hosts: [...new Set(hosts)] };
  }
}
