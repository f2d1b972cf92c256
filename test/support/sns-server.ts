import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SNSClient, type SNSClientConfig } from "@aws-sdk/client-sns";
import { readBody } from "./http-helpers.ts";

/*
 * A local SNS endpoint speaking the wire protocol @aws-sdk/client-sns v3 uses for Publish: AWS Query
 * (POST /, `application/x-www-form-urlencoded`, `Action=Publish&Version=2010-03-31&TopicArn=...&Message=...
 * &MessageStructure=json&Subject=...&MessageAttributes.entry.N.Name/Value.DataType/Value.StringValue`),
 * answered in XML. It enforces the Publish rules that matter to a sender (SigV4 header present, "default" key
 * with MessageStructure json, subject shorter than 100 characters) and can fail requests on demand.
 */

const NS = "http://sns.amazonaws.com/doc/2010-03-31/";

export interface RecordedAttribute {
  readonly dataType: string;
  readonly stringValue: string | undefined;
}

export interface RecordedPublish {
  readonly messageId: string;
  readonly topicArn: string;
  readonly message: string;
  readonly messageStructure: string | undefined;
  readonly subject: string | undefined;
  readonly attributes: Readonly<Record<string, RecordedAttribute>>;
}

/** A status code (500, 503, ...) or an SNS throttling error (HTTP 400, Code Throttling). */
export type SnsFault = number | "throttling";

export interface SnsServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** Successful publishes, in arrival order. */
  readonly publishes: readonly RecordedPublish[];
  /** Every HTTP request received, failed ones included. */
  requestCount(): number;
  /** Answer the next `count` requests with `fault` (default 500). */
  failNext(count: number, fault?: SnsFault): void;
  stop(): Promise<void>;
}

export async function startSnsServer(): Promise<SnsServer> {
  const publishes: RecordedPublish[] = [];
  const faults: SnsFault[] = [];
  let requests = 0;

  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        requests += 1;
        const reply = respond(req, body);
        send(res, reply.status, reply.xml);
      },
      () => res.destroy(),
    );
  });

  function respond(req: IncomingMessage, body: string): Reply {
    const fault = faults.shift();
    if (fault === "throttling") return errorReply(400, "Sender", "Throttling", "Rate exceeded");
    if (typeof fault === "number") {
      return errorReply(fault, fault >= 500 ? "Receiver" : "Sender", "InternalError", "Injected fault");
    }
    if (req.method !== "POST") return errorReply(405, "Sender", "InvalidAction", "POST only");
    if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) {
      return errorReply(403, "Sender", "MissingAuthenticationToken", "Request is not signed");
    }
    const form = new URLSearchParams(body);
    if (form.get("Action") !== "Publish") {
      return errorReply(400, "Sender", "InvalidAction", `Unsupported action ${form.get("Action") ?? ""}`);
    }
    const topicArn = form.get("TopicArn");
    const message = form.get("Message");
    if (!topicArn || message === null) {
      return errorReply(400, "Sender", "InvalidParameter", "TopicArn and Message are required");
    }
    const messageStructure = form.get("MessageStructure") ?? undefined;
    if (messageStructure === "json" && !hasDefaultKey(message)) {
      return errorReply(
        400,
        "Sender",
        "InvalidParameter",
        "Message Structure - No default entry in JSON message body",
      );
    }
    const subject = form.get("Subject") ?? undefined;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: SNS refuses control characters in subjects
    if (subject !== undefined && (subject.length >= 100 || /[\u0000-\u001f]/.test(subject))) {
      return errorReply(400, "Sender", "InvalidParameter", "Subject must be one line, under 100 characters");
    }
    const messageId = randomUUID();
    publishes.push({
      messageId,
      topicArn,
      message,
      messageStructure,
      subject,
      attributes: parseAttributes(form),
    });
    return {
      status: 200,
      xml: `<PublishResponse xmlns="${NS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    publishes,
    requestCount: () => requests,
    failNext(count, fault = 500) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** An SNSClient for the local server: endpoint override, dummy static credentials, SDK retries off. */
export function snsTestClient(server: Pick<SnsServer, "endpoint">, config: SNSClientConfig = {}): SNSClient {
  return new SNSClient({
    endpoint: server.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    maxAttempts: 1,
    ...config,
  });
}

/** `MessageAttributes.entry.N.Name` + `.Value.DataType` + `.Value.StringValue`, as the Query serializer sends them. */
function parseAttributes(form: URLSearchParams): Record<string, RecordedAttribute> {
  const out: Record<string, RecordedAttribute> = {};
  for (let n = 1; ; n++) {
    const prefix = `MessageAttributes.entry.${n}`;
    const name = form.get(`${prefix}.Name`);
    if (name === null) return out;
    out[name] = {
      dataType: form.get(`${prefix}.Value.DataType`) ?? "",
      stringValue: form.get(`${prefix}.Value.StringValue`) ?? undefined,
    };
  }
}

function hasDefaultKey(message: string): boolean {
  try {
    const parsed: unknown = JSON.parse(message);
    return (
      typeof parsed === "object" && parsed !== null && typeof Reflect.get(parsed, "default") === "string"
    );
  } catch {
    return false;
  }
}

interface Reply {
  readonly status: number;
  readonly xml: string;
}

function errorReply(status: number, type: string, code: string, message: string): Reply {
  return {
    status,
    xml: `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { "content-type": "text/xml", "content-length": Buffer.byteLength(xml) });
  res.end(xml);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
