import type { ReputationConfig } from "../../config.ts";
import { type BlocklistResolver, NodeBlocklistResolver } from "../../dns/blocklist-resolver.ts";
import {
  type BlocklistZone,
  blocklistQueryName,
  readListing,
} from "../../domain/reputation/blocklist-answer.ts";
import type { ReputationObservation } from "../../domain/reputation/reputation-observation.ts";
import { canonicalIp } from "../../domain/text/safe-text.ts";
import type { SecretResolver } from "../../secrets/secret-resolver.ts";
import { blocklistZonesFor } from "../../sources/reputation/blocklist-zones.ts";
import {
  type ConfiguredSourceDeps,
  configuredSignalSources,
} from "../../sources/reputation/configured-sources.ts";
import { utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";
import { readDayEvents } from "../analyze/daily-aggregates.ts";
import { reputationRunKey, runSignalSources, type SignalSourceRun } from "./run-signal-sources.ts";

export interface ReputationRunOptions {
  readonly zones: readonly BlocklistZone[];
  /** Checked whether or not they sent recently. */
  readonly sendingIps: readonly string[];
  readonly sendingDomains: readonly string[];
  /** Sending IPs seen in events of this many recent days are checked too. */
  readonly lookbackDays: number;
  readonly concurrency?: number;
}

export interface ReputationRunDeps {
  readonly store: ObjectStore;
  readonly resolver: BlocklistResolver;
  readonly now: () => Date;
  readonly log: (line: string) => void;
}

export interface ReputationRunResult {
  readonly key: string;
  readonly observations: readonly ReputationObservation[];
  readonly listed: number;
  readonly unknown: number;
}

const DAY_MS = 86_400_000;

/**
 * One reputation run: every configured block list asked about every sending IP (configured, and seen in
 * recent events) and sending domain. An error answer, a refusal or a timeout is recorded as unknown, never
 * as clean; one list failing does not stop the others. Written as one batch per hour (re-running the hour
 * rewrites the same key).
 */
export async function runReputation(
  opts: ReputationRunOptions,
  deps: ReputationRunDeps,
): Promise<ReputationRunResult> {
  const now = deps.now();
  // One canonical form (canonicalIp), so an address written two ways is asked about once and an IPv4-mapped
  // IPv6 address is asked about as its IPv4 host; what is not an address is left out.
  const ips = new Set<string>();
  const add = (ip: string | null) => {
    const canonical = canonicalIp(ip);
    if (canonical) ips.add(canonical.address);
  };
  for (const ip of opts.sendingIps) add(ip);
  for (let d = 0; d < opts.lookbackDays; d++) {
    for await (const e of readDayEvents(deps.store, utcDate(new Date(now.getTime() - d * DAY_MS)))) {
      add(e.sendingIp);
    }
  }
  const checks = opts.zones.flatMap((zone) => {
    const targets = zone.targets === "ip" ? [...ips].sort() : [...opts.sendingDomains].sort();
    return targets.flatMap((target) => {
      const name = blocklistQueryName(zone, target);
      return name ? [{ zone, target, name }] : [];
    });
  });
  deps.log(
    `reputation: ${checks.length} check(s): ${ips.size} IP(s), ${opts.sendingDomains.length} domain(s), ${opts.zones.length} list(s)`,
  );
  const observedAt = now.toISOString();
  const observations: ReputationObservation[] = new Array(checks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < checks.length) {
      const i = next++;
      const c = checks[i];
      if (!c) continue;
      const verdict = readListing(c.zone, await deps.resolver.a(c.name));
      observations[i] = {
        source: "dnsbl",
        list: c.zone.id,
        zone: c.zone.zone,
        target: c.target,
        targetKind: c.zone.targets,
        status: verdict.status,
        codes: verdict.codes,
        meaning: verdict.meaning,
        reason: verdict.status === "listed" ? await deps.resolver.txt(c.name) : null,
        observedAt,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, checks.length) }, worker));
  const key = reputationRunKey("dnsbl", now);
  await deps.store.put(key, `${JSON.stringify({ observedAt, observations }, null, 2)}\n`, {
    contentType: "application/json",
  });
  const listed = observations.filter((o) => o.status === "listed");
  const unknown = observations.filter((o) => o.status === "unknown");
  for (const o of listed) deps.log(`reputation: LISTED ${o.target} on ${o.list} (${o.meaning})`);
  for (const o of unknown) deps.log(`reputation: unknown ${o.target} on ${o.list} (${o.meaning})`);
  return { key, observations, listed: listed.length, unknown: unknown.length };
}

export interface ConfiguredReputationResult {
  /** The block-list run; null when no list is configured or it failed (see `blocklistError`). */
  readonly blocklists: ReputationRunResult | null;
  readonly blocklistError: string | null;
  readonly sources: readonly SignalSourceRun[];
}

/**
 * A run as configured: the chosen block lists (Spamhaus through DQS when its key secret is named) on the
 * configured resolver, then every other configured source. Each fails on its own: the failure is logged and
 * stored as a failed batch (so the report says the source is down), and the rest still run.
 */
export async function runConfiguredReputation(
  config: ReputationConfig,
  deps: Omit<ReputationRunDeps, "resolver"> & {
    readonly secrets: SecretResolver;
    readonly http?: ConfiguredSourceDeps["http"];
  },
): Promise<ConfiguredReputationResult> {
  let blocklists: ReputationRunResult | null = null;
  let blocklistError: string | null = null;
  if (config.blocklists.length + config.customBlocklists.length > 0) {
    try {
      const dqs = config.spamhausDqsKeySecret
        ? (await deps.secrets.resolve(config.spamhausDqsKeySecret)).value
        : undefined;
      blocklists = await runReputation(
        {
          zones: blocklistZonesFor(config, dqs),
          sendingIps: config.sendingIps,
          sendingDomains: config.sendingDomains,
          lookbackDays: config.lookbackDays,
        },
        {
          store: deps.store,
          resolver: new NodeBlocklistResolver({ servers: config.dnsServers, timeoutMs: config.dnsTimeoutMs }),
          now: deps.now,
          log: deps.log,
        },
      );
    } catch (e) {
      blocklistError = e instanceof Error ? e.message : String(e);
      deps.log(`reputation: dnsbl FAILED: ${blocklistError}`);
      const now = deps.now();
      await deps.store.put(
        reputationRunKey("dnsbl", now),
        `${JSON.stringify({ observedAt: now.toISOString(), outcome: "failed", error: blocklistError, observations: [] }, null, 2)}\n`,
        { contentType: "application/json" },
      );
    }
  }
  const sources = await runSignalSources(
    configuredSignalSources(config, {
      secrets: deps.secrets,
      log: deps.log,
      ...(deps.http ? { http: deps.http } : {}),
    }),
    deps,
  );
  return { blocklists, blocklistError, sources };
}
