import { existsSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Config } from "../../shared/config.ts";
import { mapStrings, maskAddress, maskAddresses, safeJson } from "../../shared/domain/text/safe-text.ts";
import {
  findWronglySuppressed,
  type IncidentSuppressions,
} from "../../shared/pipeline/suppressions/find-wrongly-suppressed.ts";
import {
  type RepairResult,
  repairSuppressions,
} from "../../shared/pipeline/suppressions/repair-suppressions.ts";
import { LocalSecretResolver } from "../../shared/secrets/secret-resolver.ts";
import { configuredReactivators } from "../../shared/sources/esp/configured-reactivators.ts";
import { openDataFolder } from "../lib/local-store.ts";
import { progressBar } from "../lib/progress.ts";
import { UsageError } from "./analyze.ts";

export interface SuppressionsOptions {
  readonly data: string;
  readonly incident: string;
  readonly reveal: boolean;
  readonly apply: boolean;
  readonly yes: boolean;
  readonly ratePerSecond: number;
  readonly json: boolean;
}

export interface SuppressionsIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Asks a yes/no question on the terminal; null when there is none (a pipe, a scheduler). */
  readonly confirm: ((question: string) => Promise<boolean>) | null;
  readonly loadConfig: () => Promise<Config>;
  readonly env: NodeJS.ProcessEnv;
  readonly http?: { readonly sleep?: (ms: number) => Promise<void>; readonly maxAttempts?: number };
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface SuppressionsOutcome {
  readonly found: IncidentSuppressions;
  readonly repair: RepairResult | null;
}

/**
 * Lists the addresses a recipient-side incident had the ESPs suppress although they exist (a delivery in the
 * 90 days before the bounce), masked unless --reveal. With --apply, takes them off each ESP's suppression list
 * through its API — after a yes on the terminal, or --yes — and audits every call under audit/.
 */
export async function suppressionsCommand(
  opts: SuppressionsOptions,
  io: SuppressionsIo,
): Promise<SuppressionsOutcome> {
  if (!existsSync(opts.data)) throw new UsageError(`--data ${opts.data}: no such folder`);
  const store = await openDataFolder(opts.data);
  const found = await findWronglySuppressed(store, opts.incident, io.err);
  const show = (a: string) => (opts.reveal ? a : maskAddress(a));
  // Everything else this command prints (reply texts, ESP error messages and URLs, which carry the address
  // URL-encoded) is masked too, unless --reveal.
  const hide = <T>(value: T): T => (opts.reveal ? value : mapStrings(value, maskAddresses));
  const err = (line: string) => io.err(hide(line));
  const { incident, review } = found;

  if (opts.json) {
    io.out(
      safeJson(
        hide({
          incident: incident.id,
          verdict: incident.verdict,
          report: found.reportKey,
          reactivate: review.reactivate.map((c) => ({ ...c, address: show(c.address) })),
          keep: review.keep.map((c) => ({ ...c, address: show(c.address) })),
        }),
        2,
      ),
    );
  } else {
    io.out(
      `incident ${incident.id}: ${incident.verdict} at ${incident.scope.domains.join(", ")} behind ${incident.scope.gateways.join(", ")} (${found.reportKey})`,
    );
    io.out(
      `${review.reactivate.length} address(es) wrongly suppressed — delivered within 90 days before the bounce:`,
    );
    for (const c of review.reactivate)
      io.out(
        `  ${show(c.address)}  ${c.provider}  bounced ${c.lastBounce.at} (${c.lastBounce.category})  last delivered ${c.lastDeliveredAt}`,
      );
    if (review.keep.length > 0) {
      io.out(`${review.keep.length} address(es) kept suppressed:`);
      for (const [why, n] of tally(review.keep.map((c) => c.why.split(" (")[0] ?? c.why)))
        io.out(`  ${n} × ${why}`);
    }
  }

  if (!opts.apply) {
    if (!opts.json && review.reactivate.length > 0)
      io.out(
        "Dry run: nothing was changed. Add --apply (and --config with the ESP sources) to re-activate them.",
      );
    return { found, repair: null };
  }
  if (review.reactivate.length === 0) {
    err("suppressions: nothing to re-activate");
    return { found, repair: null };
  }
  const config = await io.loadConfig();
  const reactivators = await configuredReactivators(config.sources, {
    secrets: new LocalSecretResolver(io.env, config.secretsFile),
    log: err,
    ...(io.http ? { http: io.http } : {}),
  });
  const providers = [...new Set(review.reactivate.map((c) => c.provider))];
  const through = providers.map(
    (p) =>
      `${p} (${
        reactivators
          .filter((r) => r.provider === p)
          .map((r) => r.label)
          .join(", ") || "no configured source"
      })`,
  );
  if (!opts.yes) {
    if (!io.confirm)
      throw new UsageError(
        "--apply changes ESP suppression lists: confirm on a terminal, or pass --yes when running unattended",
      );
    const ok = await io.confirm(
      `Re-activate ${review.reactivate.length} address(es) through ${through.join(", ")}? [y/N] `,
    );
    if (!ok) {
      err("suppressions: not confirmed; nothing was changed");
      return { found, repair: null };
    }
  }
  const bar = progressBar("re-activating", review.reactivate.length, process.stderr, "addresses");
  const repair = await repairSuppressions(
    review.reactivate,
    reactivators,
    {
      incidentId: incident.id,
      reportKey: found.reportKey,
      ratePerSecond: opts.ratePerSecond,
      onProgress: (done) => bar.update(done),
    },
    { store, now: () => new Date(), log: err, ...(io.sleep ? { sleep: io.sleep } : {}) },
  );
  bar.stop();
  const byStatus = tally(repair.records.map((r) => r.status));
  err(
    `suppressions: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(", ")}; audit → ${store.location}/${repair.auditKey}`,
  );
  for (const r of repair.records.filter((x) => x.status === "failed"))
    err(`suppressions: FAILED ${show(r.address)} at ${r.source} (${r.endpoint}): ${r.detail}`);
  return { found, repair };
}

function tally(values: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** A yes/no question on the terminal, or null when stdin or stderr is not one. */
export function terminalConfirm(): ((question: string) => Promise<boolean>) | null {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return null;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  };
}
