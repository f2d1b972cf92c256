/*
 * One HTTP request to a provider API with the robustness a scheduled job needs (the same rules as the
 * Mailgun client): Retry-After on 429, backoff with full jitter on 5xx / network errors / timeouts /
 * malformed bodies, an immediate stop on a refused credential or another 4xx, no redirects (a credential
 * must not follow one), and error messages that never carry a secret.
 */

/** Why a request failed: `auth` and `http` fail at once, `exhausted` after maxAttempts. */
export type ProviderFetchErrorKind = "auth" | "http" | "exhausted";

export class ProviderFetchError extends Error {
  override readonly name = "ProviderFetchError";
  constructor(
    message: string,
    readonly kind: ProviderFetchErrorKind,
    /** The request URL as shown (secrets redacted). */
    readonly url: string,
    /** The last HTTP status seen, null when no response arrived. */
    readonly status: number | null,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export interface ProviderHttpOptions {
  /** Shown in error messages: "Google Postmaster Tools". */
  readonly provider: string;
  /** Per request, headers and body included (default 30 000). */
  readonly timeoutMs?: number;
  /** Attempts per request, the first included (default 4). */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter source. */
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
  /** Strings never to show (API keys, tokens, keys embedded in URLs): replaced by *** in messages. */
  readonly secrets?: readonly string[];
  /** What a 401/403 means for this provider, appended to the error ("check the refresh token"). */
  readonly authHint?: string;
  /** How messages name the credential and a body: "API key", "page" (default "credential", "response"). */
  readonly credentialName?: string;
  readonly bodyName?: string;
}

export interface ProviderRequest<T> {
  readonly url: URL;
  readonly method?: "GET" | "POST" | "DELETE" | "PUT" | "PATCH";
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as is; set the content type in `headers`. */
  readonly body?: string;
  /**
   * Reads a 2xx body. Throw to call it malformed (the attempt counts as failed and is retried; the
   * thrown message ends up in the final error).
   */
  readonly parse: (text: string, status: number) => T;
  /** Statuses that are answers, not failures (a 404 that means "no data"): passed to `parse`. */
  readonly acceptStatuses?: readonly number[];
}

export interface ProviderResponse<T> {
  readonly status: number;
  readonly text: string;
  readonly value: T;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_ATTEMPTS = 4;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
// A Retry-After beyond this is not waited out inside one Lambda run: the attempt budget decides instead.
const RETRY_AFTER_CAP_MS = 60_000;

export class ProviderHttpClient {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: ProviderHttpOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.fetchFn = options.fetch ?? fetch;
  }

  async request<T>(req: ProviderRequest<T>): Promise<ProviderResponse<T>> {
    const shown = this.redact(req.url.href);
    const provider = this.options.provider;
    let lastStatus: number | null = null;
    let lastProblem = "";
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let status: number;
      let text: string;
      let retryAfter: string | null;
      try {
        const res = await this.fetchFn(req.url, {
          method: req.method ?? "GET",
          headers: { Accept: "application/json", ...req.headers },
          ...(req.body === undefined ? {} : { body: req.body }),
          redirect: "manual",
          // Covers the body too: a response that stalls mid-body is cut like one that never starts.
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = res.status;
        retryAfter = res.headers.get("retry-after");
        text = await res.text();
      } catch (e) {
        lastStatus = null;
        lastProblem = describeNetworkError(e, this.timeoutMs);
        if (attempt < this.maxAttempts) await this.sleep(this.backoff(attempt));
        continue;
      }
      lastStatus = status;
      if ((status >= 200 && status < 300) || req.acceptStatuses?.includes(status)) {
        try {
          return { status, text, value: req.parse(text, status) };
        } catch (e) {
          lastProblem = `malformed ${this.options.bodyName ?? "response"} (${this.redact(e instanceof Error ? e.message : String(e))})`;
          if (attempt < this.maxAttempts) await this.sleep(this.backoff(attempt));
          continue;
        }
      }
      if (status === 401 || status === 403) {
        throw new ProviderFetchError(
          `${provider} refused the ${this.options.credentialName ?? "credential"} (HTTP ${status}) for ${shown}${this.options.authHint ? `: ${this.options.authHint}` : ""}`,
          "auth",
          shown,
          status,
          attempt,
        );
      }
      if (status === 429) {
        lastProblem = "rate limited (HTTP 429)";
        if (attempt < this.maxAttempts) {
          await this.sleep(
            Math.min(parseRetryAfter(retryAfter, Date.now()) ?? this.backoff(attempt), RETRY_AFTER_CAP_MS),
          );
        }
        continue;
      }
      if (status >= 500) {
        lastProblem = `server error (HTTP ${status})`;
        if (attempt < this.maxAttempts) await this.sleep(this.backoff(attempt));
        continue;
      }
      throw new ProviderFetchError(
        `${provider} answered HTTP ${status} for ${shown}: ${JSON.stringify(this.redact(text).slice(0, 200))}`,
        "http",
        shown,
        status,
        attempt,
      );
    }
    throw new ProviderFetchError(
      `${provider} request failed after ${this.maxAttempts} attempts: ${shown} (last status ${lastStatus ?? "none"}: ${lastProblem})`,
      "exhausted",
      shown,
      lastStatus,
      this.maxAttempts,
    );
  }

  /** Any configured secret, and URL user-info, replaced by ***. */
  redact(text: string): string {
    let out = text.replace(/\/\/[^/@\s]+@/g, "//***@");
    for (const s of this.options.secrets ?? []) if (s !== "") out = out.split(s).join("***");
    return out;
  }

  /** Full jitter: uniform in [0, min(cap, base · 2^(attempt-1))). */
  private backoff(attempt: number): number {
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }
}

/** Parses JSON and checks it with a zod-like schema; throws a message naming the first bad field. */
export function jsonBody<T>(schema: {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: readonly Issue[] } };
}): (text: string) => T {
  return (text) => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error("not JSON");
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.map(String).join(".") : "(root)";
    throw new Error(`${where}: ${issue?.message ?? "invalid"}`);
  };
}

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Retry-After as delta-seconds or an HTTP-date (RFC 9110 §10.2.3); null when unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

function describeNetworkError(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) {
    return `no complete response within ${timeoutMs} ms`;
  }
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `network error (${e instanceof Error ? e.message : String(e)}${cause})`;
}
