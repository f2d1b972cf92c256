import * as z from "zod";
import type { GatewayId } from "../domain/gateways/catalogue.ts";
import { gatewayOfMxHosts, normaliseHost } from "../domain/gateways/gateway-of-mx-host.ts";
import { normaliseDomain, organisationOf } from "../domain/organisations/organisation-of.ts";
import { safeLine } from "../domain/text/safe-text.ts";
import { keys } from "../store/keys.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { MX_STATUSES, type MxAnswer, type MxResolver, type MxStatus } from "./mx-resolver.ts";

/** A recognised vendor, "self_hosted" (MX found, no known gateway) or "unknown" (no usable MX). */
export type RecipientGateway = GatewayId | "self_hosted" | "unknown";

export interface GatewayResult {
  readonly gateway: RecipientGateway;
  /** The MX hosts the verdict rests on: the ESP's host, or the domain's (or its organisation's) MX. */
  readonly mxHosts: string[];
  /**
   * esp: the ESP's mxHost. dns: at least one answer was looked up. cache: every answer used came from the
   * cache (including a stale one kept because DNS failed when it was due again).
   */
  readonly source: "esp" | "dns" | "cache";
}

export interface GatewayLookupOptions {
  readonly now: () => Date;
  /** How long definitive answers (MX found, NXDOMAIN, no MX) are kept; default 24 h. */
  readonly ttlHours?: number;
  /** How long failed lookups (refused, timeout, error) are kept before asking again; default 1 h. */
  readonly failureTtlHours?: number;
  /** Upper bound on DNS queries in flight, however many lookups callers start at once; default 16. */
  readonly maxConcurrentQueries?: number;
  /** Told about a cache file that had to be discarded; default: a line on stderr. */
  readonly onWarning?: (message: string) => void;
}

const CacheEntrySchema = z.object({
  status: z.enum(MX_STATUSES),
  hosts: z.array(z.string()),
  detail: z.string().optional(),
  expiresAt: z.iso.datetime(),
});
type CacheEntry = z.infer<typeof CacheEntrySchema>;

const CacheFileSchema = z.object({
  version: z.literal(1),
  entries: z.record(z.string(), CacheEntrySchema),
});

const DEFINITIVE: ReadonlySet<MxStatus> = new Set(["ok", "nxdomain", "nodata"]);
const HOUR_MS = 3_600_000;
/** Rough host-name syntax: not worth a query (nor a cache entry) when it fails. */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/;

/**
 * The recipient gateway of a domain, from the ESP's reported MX host when it names a known gateway, else
 * from the domain's MX records (or its organisation's, when the domain itself has none), with the answers
 * cached in the store under state/mx/cache.json so scheduled runs do not re-ask the same thousands of
 * domains. Answers are cached raw and the gateway is derived on read, so catalogue updates apply at once.
 */
export class GatewayLookup {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<{ entry: CacheEntry; fromCache: boolean }>>();
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly limit: Limiter;
  private readonly warn: (message: string) => void;
  private dirty = false;

  constructor(
    private readonly resolver: MxResolver,
    private readonly store: ObjectStore | null,
    private readonly options: GatewayLookupOptions,
  ) {
    this.ttlMs = positive(options.ttlHours ?? 24, "ttlHours") * HOUR_MS;
    this.failureTtlMs = positive(options.failureTtlHours ?? 1, "failureTtlHours") * HOUR_MS;
    this.limit = limiter(positiveInteger(options.maxConcurrentQueries ?? 16, "maxConcurrentQueries"));
    this.warn = options.onWarning ?? ((message) => process.stderr.write(`${message}\n`));
  }

  /**
   * Reads the cache from the store. A file that is not valid JSON or not the expected shape is discarded
   * with a warning (it is rebuilt by the next save); store I/O errors propagate. Entries looked up before
   * load() are kept over the file's.
   */
  async load(): Promise<void> {
    if (!this.store) return;
    const bytes = await this.store.get(keys.mxCache());
    if (bytes === null) return;
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      this.discard(`not JSON (${e instanceof Error ? e.message : String(e)})`);
      return;
    }
    const parsed = CacheFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.discard(issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "unexpected shape");
      return;
    }
    for (const [domain, entry] of Object.entries(parsed.data.entries)) {
      if (!this.entries.has(domain)) this.entries.set(domain, entry);
    }
  }

  /** Writes the cache back, without entries that have expired; only when something changed. */
  async save(): Promise<void> {
    if (!this.store || !this.dirty) return;
    const now = this.options.now().getTime();
    const entries: Record<string, CacheEntry> = {};
    // Sorted keys: the same answers give the same bytes, so diffs of the file stay readable.
    for (const domain of [...this.entries.keys()].sort()) {
      const entry = this.entries.get(domain);
      if (entry && Date.parse(entry.expiresAt) > now) entries[domain] = entry;
    }
    const body = `${JSON.stringify({ version: 1, entries }, null, 1)}\n`;
    await this.store.put(keys.mxCache(), body, { contentType: "application/json" });
    this.dirty = false;
  }

  async gatewayOf(recipientDomain: string, mxHostFromEsp?: string | null): Promise<GatewayResult> {
    if (mxHostFromEsp) {
      const host = normaliseHost(mxHostFromEsp);
      const gateway = gatewayOfMxHosts([host]);
      // An unrecognised ESP host may be a relay or an IP: only the domain's own MX can say "self-hosted".
      if (gateway) return { gateway, mxHosts: [host], source: "esp" };
    }

    const domain = normaliseDomain(recipientDomain);
    if (!HOST_NAME.test(domain)) return { gateway: "unknown", mxHosts: [], source: "dns" };

    const first = await this.answerFor(domain);
    let answer = first.entry;
    let fromCache = first.fromCache;
    if (answer.status === "nxdomain" || answer.status === "nodata") {
      // mail.acme.com without MX of its own: acme.com's MX is the best guess at who filters for it.
      const organisation = organisationOf(domain);
      if (organisation !== domain) {
        const second = await this.answerFor(organisation);
        answer = second.entry;
        fromCache &&= second.fromCache;
      }
    }

    const source = fromCache ? "cache" : "dns";
    if (answer.status !== "ok" || answer.hosts.length === 0)
      return { gateway: "unknown", mxHosts: [], source };
    return { gateway: gatewayOfMxHosts(answer.hosts) ?? "self_hosted", mxHosts: [...answer.hosts], source };
  }

  /** gatewayOf for many domains, at most `concurrency` at a time; keyed by the domains as given. */
  async gatewaysOf(
    domains: Iterable<string>,
    options: { readonly concurrency?: number } = {},
  ): Promise<Map<string, GatewayResult>> {
    const unique = [...new Set(domains)];
    const results = new Map<string, GatewayResult>();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < unique.length; i = next++) {
        const domain = unique[i] as string;
        results.set(domain, await this.gatewayOf(domain));
      }
    };
    const workers = Math.min(positiveInteger(options.concurrency ?? 16, "concurrency"), unique.length);
    await Promise.all(Array.from({ length: workers }, worker));
    // Input order, whatever order the lookups finished in.
    return new Map(unique.map((d) => [d, results.get(d) as GatewayResult]));
  }

  /** The cached answer while it is fresh, else one shared DNS query per domain however many callers ask. */
  private answerFor(domain: string): Promise<{ entry: CacheEntry; fromCache: boolean }> {
    const now = this.options.now().getTime();
    const cached = this.entries.get(domain);
    if (cached && Date.parse(cached.expiresAt) > now)
      return Promise.resolve({ entry: cached, fromCache: true });

    const pending = this.inFlight.get(domain);
    if (pending) return pending;
    const query = this.query(domain, cached).finally(() => this.inFlight.delete(domain));
    this.inFlight.set(domain, query);
    return query;
  }

  private async query(
    domain: string,
    stale: CacheEntry | undefined,
  ): Promise<{ entry: CacheEntry; fromCache: boolean }> {
    let answer: MxAnswer;
    try {
      answer = await this.limit(() => this.resolver.mx(domain));
    } catch (e) {
      // The port promises not to throw; a resolver that does still must not stop the run.
      answer = { status: "error", hosts: [], detail: e instanceof Error ? e.message : String(e) };
    }
    const now = this.options.now().getTime();
    this.dirty = true;
    if (!DEFINITIVE.has(answer.status) && stale && DEFINITIVE.has(stale.status)) {
      // DNS trouble says nothing new about the domain: keep the last real answer, ask again after the failure TTL.
      const kept = { ...stale, expiresAt: new Date(now + this.failureTtlMs).toISOString() };
      this.entries.set(domain, kept);
      return { entry: kept, fromCache: true };
    }
    const entry: CacheEntry = {
      status: answer.status,
      hosts: [...answer.hosts],
      ...(answer.detail ? { detail: answer.detail } : {}),
      expiresAt: new Date(
        now + (DEFINITIVE.has(answer.status) ? this.ttlMs : this.failureTtlMs),
      ).toISOString(),
    };
    this.entries.set(domain, entry);
    return { entry, fromCache: false };
  }

  private discard(why: string): void {
    // Rewrite it at the next save even if no lookup changes anything.
    this.dirty = true;
    // `why` quotes the file (JSON.parse cites its bytes, zod its keys): made inert before it reaches a log.
    this.warn(
      `MX cache ${keys.mxCache()} in ${this.store?.location ?? "?"} is corrupt and was discarded: ${safeLine(why)}`,
    );
  }
}

type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** At most `max` tasks running; the rest wait in arrival order. */
function limiter(max: number): Limiter {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between.
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value))
    throw new Error(`GatewayLookup: ${name} must be positive, got ${value}`);
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`GatewayLookup: ${name} must be a positive integer, got ${value}`);
  return value;
}
