import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import type { TxtAnswer, TxtResolver } from "../../shared/dns/txt-resolver.ts";
import type { ReputationSignal } from "../../shared/domain/reputation/reputation-signal.ts";
import { AuthPostureSource } from "../../shared/sources/reputation/auth/auth-posture-source.ts";
import { PostmasterSource } from "../../shared/sources/reputation/postmaster/postmaster-source.ts";
import type { BadRow, ReputationSource } from "../../shared/sources/reputation/reputation-source.ts";
import { SendgridReputationSource } from "../../shared/sources/reputation/sendgrid/sendgrid-reputation-source.ts";
import { SesReputationSource } from "../../shared/sources/reputation/ses/ses-reputation-source.ts";
import { SndsSource } from "../../shared/sources/reputation/snds/snds-source.ts";
import { SparkpostHealthSource } from "../../shared/sources/reputation/sparkpost/sparkpost-health-source.ts";

/*
 * Runs the published-format fixtures under test/fixtures/reputation/<source>/ through the real sources: each
 * source's cases.json names, per case, the fixture files that answer each request, the source's options and
 * the clock, and lists every value the source must judge from them. HTTP sources get a fetch that answers
 * from the files by method and path; SES gets a loopback endpoint speaking the AWS wire protocols (REST-JSON
 * for sesv2, JSON 1.0 for CloudWatch); the authentication posture gets a TXT "zone" file.
 */

export const FIXTURES_DIR = join(import.meta.dirname, "..", "fixtures", "reputation");

/** A request's answer: a file (200), files in turn (pages), or a file with another status. */
export type Route = string | readonly string[] | { readonly file: string; readonly status: number };

export interface FixtureCase {
  readonly name: string;
  readonly now: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** "METHOD /path" (HTTP sources), "GetAccount" / "GetMetricData" (SES), "zone" (auth) → files. */
  readonly answers: Readonly<Record<string, Route>>;
  /** Every value the run judges: [subject, metric, day, status, value], in the order the source gives them. */
  readonly expect: ReadonlyArray<readonly [string, string, string | null, string, number | string | null]>;
  /** Rows of the answers the source must leave out (default 0). */
  readonly badRows?: number;
}

export interface FixtureCases {
  readonly source: "postmaster" | "snds" | "ses" | "sendgrid" | "sparkpost" | "auth";
  readonly cases: readonly FixtureCase[];
}

export function readCases(source: string): FixtureCases {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, source, "cases.json"), "utf8")) as FixtureCases;
}

/** The fixture files of a source directory: everything but its README and cases.json. */
export function fixtureFiles(source: string): string[] {
  return readdirSync(join(FIXTURES_DIR, source))
    .filter((f) => f !== "README.md" && f !== "cases.json")
    .sort();
}

/** Every file a source's cases name. */
export function filesUsed(cases: FixtureCases): Set<string> {
  const used = new Set<string>();
  for (const c of cases.cases) {
    for (const route of Object.values(c.answers)) {
      if (typeof route === "string") used.add(route);
      else if (Array.isArray(route)) for (const f of route) used.add(f);
      else used.add((route as { file: string }).file);
    }
  }
  return used;
}

export function fixtureText(source: string, file: string): string {
  return readFileSync(join(FIXTURES_DIR, source, file), "utf8");
}

export interface CaseRun {
  readonly signals: ReputationSignal[];
  readonly badRows: BadRow[];
  /** Requests that found no answer among the case's files ("METHOD /path"). */
  readonly unanswered: string[];
}

/** One case through its source. */
export async function runCase(source: FixtureCases["source"], c: FixtureCase): Promise<CaseRun> {
  const badRows: BadRow[] = [];
  const sink = { badRow: (r: BadRow) => badRows.push(r) };
  const now = new Date(c.now);
  const options = c.options ?? {};
  const unanswered: string[] = [];
  const http = {
    fetch: fixtureFetch(source, c.answers, unanswered),
    sleep: async () => undefined,
    maxAttempts: 1,
  };
  let built: ReputationSource;
  let stop = async () => undefined;
  switch (source) {
    case "postmaster":
      built = new PostmasterSource({
        credentials: {
          client_id: "fixture-client.apps.example",
          client_secret: "fixture-client-secret",
          refresh_token: "fixture-refresh-token",
        },
        domains: options.domains as string[],
        lookbackDays: options.lookbackDays as number,
        baseUrl: "https://gmailpostmastertools.fixture.test",
        tokenUrl: "https://oauth2.fixture.test/token",
        ...http,
      });
      break;
    case "snds":
      built = new SndsSource({
        key: "00000000-fixture-key-0000000000000000",
        baseUrl: "https://snds.fixture.test",
        ...(options.ips ? { ips: options.ips as string[] } : {}),
        ...(options.daysBack === undefined ? {} : { daysBack: options.daysBack as number }),
        ...http,
      });
      break;
    case "sendgrid":
      built = new SendgridReputationSource({
        apiKey: "SG.fixture-key",
        region: "global",
        baseUrl: "https://sendgrid.fixture.test",
        lookbackDays: options.lookbackDays as number,
        ...http,
      });
      break;
    case "sparkpost":
      built = new SparkpostHealthSource({
        apiKey: "fixture-sparkpost-key",
        region: "us",
        baseUrl: "https://sparkpost.fixture.test",
        lookbackDays: options.lookbackDays as number,
        ...(options.domains ? { domains: options.domains as string[] } : {}),
        ...http,
      });
      break;
    case "ses": {
      const endpoint = await awsEndpoint(source, c.answers, unanswered);
      stop = endpoint.stop;
      const client = { endpoint: endpoint.url, region: "eu-west-1", maxAttempts: 1 } as const;
      const credentials = { accessKeyId: "AKIDFIXTURE", secretAccessKey: "fixture-secret" };
      built = new SesReputationSource({
        region: "eu-west-1",
        sesv2: new SESv2Client({ ...client, credentials }),
        cloudwatch: new CloudWatchClient({ ...client, credentials }),
      });
      break;
    }
    case "auth":
      built = new AuthPostureSource({
        domains: options.domains as string[],
        dkimSelectors: options.dkimSelectors as string[],
        resolver: zoneResolver(JSON.parse(fixtureText(source, c.answers.zone as string))),
      });
      break;
  }
  try {
    return { signals: await built.collect(now, sink), badRows, unanswered };
  } finally {
    await stop();
  }
}

/** A fetch answering "METHOD /path" from the case's files; anything else is a 404 and noted. */
function fixtureFetch(source: string, answers: FixtureCase["answers"], unanswered: string[]): typeof fetch {
  const served = new Map<string, number>();
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const key = `${init?.method ?? "GET"} ${url.pathname}`;
    const route = answers[key];
    if (route === undefined) {
      unanswered.push(key);
      return new Response('{"error":"no fixture"}', { status: 404 });
    }
    let file: string;
    let status = 200;
    if (typeof route === "string") file = route;
    else if (Array.isArray(route)) {
      const n = served.get(key) ?? 0;
      served.set(key, n + 1);
      file = route[Math.min(n, route.length - 1)] as string;
    } else {
      ({ file, status } = route as { file: string; status: number });
    }
    const type = file.endsWith(".csv") ? "text/csv" : "application/json";
    return new Response(fixtureText(source, file), { status, headers: { "Content-Type": type } });
  }) as typeof fetch;
}

/** A loopback endpoint for the SDK clients: sesv2 GetAccount (REST-JSON) and CloudWatch GetMetricData (JSON 1.0). */
async function awsEndpoint(
  source: string,
  answers: FixtureCase["answers"],
  unanswered: string[],
): Promise<{ url: string; stop: () => Promise<undefined> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const op =
        req.method === "GET" && req.url === "/v2/email/account"
          ? "GetAccount"
          : target.endsWith(".GetMetricData")
            ? "GetMetricData"
            : null;
      const file = op === null ? undefined : answers[op];
      if (op === null || typeof file !== "string") {
        unanswered.push(`${req.method} ${req.url} ${target}`);
        res.writeHead(404, { "Content-Type": "application/json" }).end('{"message":"no fixture"}');
        return;
      }
      const type = op === "GetAccount" ? "application/json" : "application/x-amz-json-1.0";
      res.writeHead(200, { "Content-Type": type }).end(fixtureText(source, file));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}

/** TXT answers from a { name: [records] } zone; a name not in it is NXDOMAIN. */
function zoneResolver(zone: Readonly<Record<string, string[]>>): TxtResolver {
  return {
    txt: async (name: string): Promise<TxtAnswer> => {
      const records = zone[name.toLowerCase()];
      return records === undefined ? { status: "nxdomain", records: [] } : { status: "ok", records };
    },
  };
}
