import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/*
 * A recording reverse proxy in front of the local AWS fakes. A function under test gets the proxy's address in
 * its AWS_ENDPOINT_URL_* variables, so every AWS call it makes — from bundled code, with the SDK exactly as
 * it ships — passes here on the wire and is recorded before it is forwarded unchanged (SigV4 signatures stay
 * valid: the Host header is the proxy's, as signed). `iamRequestsOf` (iam-requests.ts) then says which IAM
 * actions and resources each call needs.
 */

/** The AWS services a bounce-radar function calls, by the SDK's endpoint variable suffix. */
export type AwsService = "s3" | "sqs" | "sns" | "secretsmanager" | "sesv2" | "cloudwatch";

export const ENDPOINT_VARIABLES: Record<AwsService, string> = {
  s3: "AWS_ENDPOINT_URL_S3",
  sqs: "AWS_ENDPOINT_URL_SQS",
  sns: "AWS_ENDPOINT_URL_SNS",
  secretsmanager: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
  sesv2: "AWS_ENDPOINT_URL_SESV2",
  cloudwatch: "AWS_ENDPOINT_URL_CLOUDWATCH",
};

export interface RecordedCall {
  readonly service: AwsService;
  readonly method: string;
  /** Path and query as sent, still URL-encoded. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Who made it: set with `recorder.as(label)` before invoking a function. */
  readonly caller: string;
  status: number;
}

export interface AwsCallRecorder {
  /** AWS_ENDPOINT_URL_* variables pointing at the proxies (only for the services given upstreams). */
  readonly environment: Readonly<Record<string, string>>;
  readonly calls: readonly RecordedCall[];
  /** Label the calls that follow (e.g. the function's name). */
  as(caller: string): void;
  stop(): Promise<void>;
}

export async function startAwsCallRecorder(
  upstreams: Partial<Record<AwsService, string>>,
): Promise<AwsCallRecorder> {
  const calls: RecordedCall[] = [];
  let caller = "unlabelled";
  const servers: Server[] = [];
  const environment: Record<string, string> = {};
  for (const [service, upstream] of Object.entries(upstreams) as [AwsService, string][]) {
    const target = new URL(upstream);
    const server = createServer((req, res) => {
      readAll(req).then(
        (body) => {
          const headers = Object.fromEntries(
            Object.entries(req.headers).map(([k, v]) => [
              k,
              Array.isArray(v) ? v.join(",") : String(v ?? ""),
            ]),
          );
          const call: RecordedCall = {
            service,
            method: req.method ?? "GET",
            url: req.url ?? "/",
            headers,
            body,
            caller,
            status: 0,
          };
          calls.push(call);
          const forward = httpRequest(
            {
              host: target.hostname,
              port: target.port,
              method: req.method,
              path: req.url,
              headers: req.headers,
            },
            (upstreamRes) => {
              call.status = upstreamRes.statusCode ?? 0;
              res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
              upstreamRes.pipe(res);
            },
          );
          forward.on("error", (e) => {
            call.status = 502;
            res.writeHead(502).end(String(e));
          });
          forward.end(body);
        },
        () => res.writeHead(400).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    environment[ENDPOINT_VARIABLES[service]] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    environment,
    calls,
    as(label) {
      caller = label;
    },
    async stop() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
