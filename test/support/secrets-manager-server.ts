import { createHash } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "./http-helpers.ts";

/*
 * A local Secrets Manager speaking the JSON 1.1 protocol @aws-sdk/client-secrets-manager v3 uses for
 * GetSecretValue: POST / with `X-Amz-Target: secretsmanager.GetSecretValue` and a JSON body {"SecretId": ...},
 * answered with `application/x-amz-json-1.1`. Secrets are looked up by name or by the ARN this server gives
 * them; anything else is a ResourceNotFoundException, as in AWS.
 */

export interface RecordedSecretsRequest {
  /** The X-Amz-Target header, e.g. "secretsmanager.GetSecretValue". */
  readonly target: string;
  /** SecretId from the body, when there was one. */
  readonly secretId: string | undefined;
  /** Whether the request carried a SigV4 Authorization header. */
  readonly signed: boolean;
  readonly status: number;
}

export interface SecretsManagerServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** Every request, in arrival order. */
  readonly requests: readonly RecordedSecretsRequest[];
  stop(): Promise<void>;
}

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const CONTENT_TYPE = "application/x-amz-json-1.1";

/** `secrets`: name → SecretString. */
export async function startSecretsManagerServer(
  secrets: Readonly<Record<string, string>>,
): Promise<SecretsManagerServer> {
  const requests: RecordedSecretsRequest[] = [];
  const created = Math.floor(Date.now() / 1000);
  const arnOf = (name: string) =>
    `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${createHash("sha256").update(name).digest("hex").slice(0, 6)}`;

  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const target = String(req.headers["x-amz-target"] ?? "");
        let secretId: string | undefined;
        let reply: Reply;
        if (req.method !== "POST") {
          reply = error(405, "InvalidRequestException", "POST only");
        } else if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) {
          reply = error(400, "MissingAuthenticationTokenException", "Request is not signed");
        } else if (target !== "secretsmanager.GetSecretValue") {
          reply = error(400, "UnknownOperationException", `Unsupported operation ${target}`);
        } else {
          let parsed: unknown;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = undefined;
          }
          const id =
            typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, "SecretId") : undefined;
          secretId = typeof id === "string" ? id : undefined;
          const name =
            secretId === undefined
              ? undefined
              : Object.keys(secrets).find((n) => n === secretId || arnOf(n) === secretId);
          if (secretId === undefined) {
            reply = error(400, "InvalidParameterException", "SecretId is required");
          } else if (name === undefined) {
            reply = error(
              400,
              "ResourceNotFoundException",
              "Secrets Manager can't find the specified secret.",
            );
          } else {
            reply = {
              status: 200,
              body: {
                ARN: arnOf(name),
                Name: name,
                SecretString: secrets[name],
                VersionId: "00000000-0000-4000-8000-000000000001",
                VersionStages: ["AWSCURRENT"],
                CreatedDate: created,
              },
            };
          }
        }
        requests.push({
          target,
          secretId,
          signed: String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 "),
          status: reply.status,
        });
        send(res, reply);
      },
      () => res.destroy(),
    );
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

function error(status: number, type: string, message: string): Reply {
  return { status, body: { __type: type, message } };
}

function send(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": CONTENT_TYPE,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": "00000000-0000-4000-8000-000000000000",
  });
  res.end(text);
}
