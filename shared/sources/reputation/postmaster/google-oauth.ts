import * as z from "zod";
import {
  jsonBody,
  ProviderFetchError,
  ProviderHttpClient,
  type ProviderHttpOptions,
} from "../../../http/provider-http-client.ts";

/*
 * The refresh-token exchange of Google OAuth 2.0 (https://developers.google.com/identity/protocols/oauth2/web-server#offline): Postmaster Tools has no
 * service accounts, so a user consents once and the stored refresh token buys an access token per run.
 */

export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

export interface GoogleOAuthCredentials {
  readonly client_id: string;
  readonly client_secret: string;
  readonly refresh_token: string;
}

export type GoogleHttpOptions = Pick<
  ProviderHttpOptions,
  "fetch" | "sleep" | "random" | "timeoutMs" | "maxAttempts"
>;

export interface GoogleAccessToken {
  readonly accessToken: string;
  /** Seconds, as Google reports it (null when absent). */
  readonly expiresIn: number | null;
}

const TokenSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.number().optional(),
  token_type: z.string().refine((t) => t.toLowerCase() === "bearer", "not a Bearer token"),
});

const OAuthErrorSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().optional(),
});

type TokenAnswer =
  | { readonly ok: true; readonly token: z.infer<typeof TokenSchema> }
  | { readonly ok: false; readonly error: string; readonly description: string };

const PROVIDER = "Google OAuth";
const readToken = jsonBody(TokenSchema);

/**
 * Exchanges the refresh token for an access token. A refused refresh token or client throws a
 * ProviderFetchError of kind `auth` saying what to do; other faults are retried by ProviderHttpClient.
 */
export async function exchangeRefreshToken(
  credentials: GoogleOAuthCredentials,
  tokenUrl: string = GOOGLE_TOKEN_URL,
  http: GoogleHttpOptions = {},
): Promise<GoogleAccessToken> {
  const client = new ProviderHttpClient({
    ...http,
    provider: PROVIDER,
    secrets: secretForms(credentials.client_secret, credentials.refresh_token),
  });
  const url = new URL(tokenUrl);
  const res = await client.request<TokenAnswer>({
    url,
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      client_id: credentials.client_id,
      client_secret: credentials.client_secret,
      refresh_token: credentials.refresh_token,
    }).toString(),
    // Google answers a refused grant or client with 400/401 and an OAuth error body (RFC 6749 §5.2).
    acceptStatuses: [400, 401],
    parse: (text, status) => {
      if (status >= 200 && status < 300) return { ok: true, token: readToken(text) };
      const err = OAuthErrorSchema.safeParse(safeJson(text));
      // A 4xx without an OAuth error body is still a refusal: retrying it would not change the answer.
      return err.success
        ? { ok: false, error: err.data.error, description: err.data.error_description ?? "" }
        : { ok: false, error: `HTTP ${status}`, description: text.slice(0, 200) };
    },
  });
  const answer = res.value;
  if (answer.ok)
    return { accessToken: answer.token.access_token, expiresIn: answer.token.expires_in ?? null };
  const shown = client.redact(url.href);
  const said = client.redact(answer.description ? `${answer.error}: ${answer.description}` : answer.error);
  const message =
    answer.error === "invalid_grant"
      ? `Google refused the Postmaster Tools refresh token (${said}): it has expired or been revoked. ` +
        "Run the consent flow again and store the new refresh token, and publish the OAuth consent screen " +
        "(Internal or In production): tokens issued while it is in Testing status expire after 7 days."
      : answer.error === "invalid_client" || answer.error === "unauthorized_client"
        ? `Google refused the OAuth client (${said}): check client_id and client_secret in the secret.`
        : `Google refused the refresh-token exchange (${said}).`;
  throw new ProviderFetchError(message, "auth", shown, res.status, 1);
}

/**
 * Each secret as sent and as an echoed request would show it: refresh tokens start "1//", which a
 * form-encoded body carries as "1%2F%2F", out of reach of a plain string match.
 */
export function secretForms(...secrets: readonly string[]): string[] {
  const forms = secrets.flatMap((s) => [
    s,
    encodeURIComponent(s),
    new URLSearchParams({ s }).toString().slice(2),
  ]);
  // Longest first, so a form is not half-replaced by a shorter one it contains.
  return [...new Set(forms)].filter((f) => f !== "").sort((a, b) => b.length - a.length);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
