import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/*
 * A local Microsoft SNDS "Automated Data Access" endpoint (format: test/fixtures/reputation/snds/README.md):
 *   GET /snds/data.aspx?key=K[&date=MMDDYY]   CSV, no header, CRLF
 *   GET /snds/ipStatus.aspx?key=K             CSV: first IP, last IP, Yes/No, reason
 * An unknown key gets a 404 or, as reported after the 2026 portal migration, a sign-in page served with 200
 * (which echoes the key in its return URL, so leaks can be tested). Scripted faults: 500, 429 with
 * Retry-After, and a slow answer.
 */

export type SndsFile = "data.aspx" | "ipStatus.aspx";

/** server-error: 500. rate-limit: 429 with Retry-After. slow: the normal answer after `delayMs`. */
export type SndsFaultKind = "server-error" | "rate-limit" | "slow";

export interface SndsFault {
  readonly kind: SndsFaultKind;
  /** The file it hits (default either). */
  readonly file?: SndsFile;
  /** How many requests it answers (default 1); `Infinity` for one that persists. */
  readonly times?: number;
  /** rate-limit: the Retry-After header (default "1", seconds). */
  readonly retryAfter?: string;
  /** slow: the delay before the normal answer (default 300 ms). */
  readonly delayMs?: number;
}

export interface SndsServerOptions {
  readonly key: string;
  /** data.aspx bodies by date parameter (MMDDYY); "latest" answers a request without one. Other days: empty. */
  readonly data?: Readonly<Record<string, string>>;
  /** The ipStatus.aspx body (default empty: nothing blocked). */
  readonly ipStatus?: string;
  /** What an unknown key gets (default "not-found"). */
  readonly unknownKey?: "not-found" | "login-page";
  readonly faults?: readonly SndsFault[];
}

export interface SndsRequestRecord {
  readonly n: number;
  /** Path and query, key included: the fake is allowed to see it. */
  readonly path: string;
  readonly file: SndsFile | null;
  readonly keyKnown: boolean;
  readonly date: string | null;
  readonly accept: string | undefined;
  fault: SndsFaultKind | null;
  status: number;
}

export interface SndsServer {
  readonly baseUrl: string;
  readonly log: readonly SndsRequestRecord[];
  stop(): Promise<void>;
}

export function sndsLoginPage(returnUrl: string): string {
  return [
    "<!DOCTYPE html>",
    '<html dir="ltr" lang="en"><head><title>Sign in to your Microsoft account</title></head>',
    `<body><form method="post" action="https://login.live.com/ppsecure/post.srf?wreply=${encodeURIComponent(returnUrl)}">`,
    '<input type="email" name="loginfmt" placeholder="Email, phone, or Skype"/>',
    "</form></body></html>",
  ].join("\r\n");
}

export async function startSndsServer(options: SndsServerOptions): Promise<SndsServer> {
  const faults = (options.faults ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
  const log: SndsRequestRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let baseUrl = "";

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, "text/plain", String(e));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", baseUrl);
    // IIS paths are case-insensitive.
    const path = url.pathname.toLowerCase();
    const file: SndsFile | null =
      path === "/snds/data.aspx" ? "data.aspx" : path === "/snds/ipstatus.aspx" ? "ipStatus.aspx" : null;
    const record: SndsRequestRecord = {
      n: log.length + 1,
      path: `${url.pathname}${url.search}`,
      file,
      keyKnown: url.searchParams.get("key") === options.key,
      date: url.searchParams.get("date"),
      accept: req.headers.accept,
      fault: null,
      status: 0,
    };
    log.push(record);
    const reply = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      record.status = status;
      send(res, status, type, body, headers);
    };

    if (req.method !== "GET" || file === null)
      return reply(404, "text/html", "<html><body>Not found</body></html>");

    const fault = faults.find((f) => f.left > 0 && (f.file === undefined || f.file === file));
    if (fault) {
      fault.left -= 1;
      record.fault = fault.kind;
      if (fault.kind === "server-error") {
        return reply(500, "text/html", "<html><body>Server Error in '/' Application.</body></html>");
      }
      if (fault.kind === "rate-limit") {
        return reply(429, "text/plain", "Too many requests", { "Retry-After": fault.retryAfter ?? "1" });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, fault.delayMs ?? 300);
        timers.add(t);
      });
      if (res.destroyed) return;
    }

    if (!record.keyKnown) {
      if ((options.unknownKey ?? "not-found") === "login-page") {
        return reply(200, "text/html; charset=utf-8", sndsLoginPage(url.href));
      }
      return reply(404, "text/html", "<html><body>The resource cannot be found.</body></html>");
    }
    if (file === "ipStatus.aspx") return reply(200, "text/csv", options.ipStatus ?? "");
    if (record.date !== null && !/^\d{6}$/.test(record.date)) {
      return reply(400, "text/plain", "Invalid date: expected MMDDYY");
    }
    return reply(200, "text/csv", options.data?.[record.date ?? "latest"] ?? "");
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    log,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(body);
}
