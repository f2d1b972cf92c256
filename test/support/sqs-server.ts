import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import * as z from "zod";

/*
 * A local SQS queue speaking the wire protocol @aws-sdk/client-sqs v3 uses today: AWS JSON 1.0
 * (POST /, `X-Amz-Target: AmazonSQS.<Operation>`, `Content-Type: application/x-amz-json-1.0`, errors as
 * `{"__type": "com.amazonaws.sqs#Code", "message"}` plus the `x-amzn-query-error` header the SDK reads in
 * awsQueryCompatible mode). One standard queue with real visibility-timeout and at-least-once semantics, and
 * scripted faults, so adapters are tested against behaviour rather than mocks.
 */

export interface SqsServerOptions {
  /** Default visibility timeout in seconds when a receive does not set one (SQS default 30). */
  readonly visibilityTimeoutSeconds?: number;
  readonly queueName?: string;
  /** The URL the queue answers to (e.g. its AWS form); default `{endpoint}/000000000000/{queueName}`. */
  readonly queueUrl?: string;
  /** 1-based numbers of HTTP requests (counted over all operations) answered with a 500. */
  readonly failRequests?: readonly number[];
}

export interface RecordedRequest {
  readonly n: number;
  /** e.g. `ReceiveMessage` (the X-Amz-Target without `AmazonSQS.`). */
  readonly operation: string;
  readonly contentType: string | undefined;
  body: unknown;
  /** The status the server answered with. */
  status: number;
}

export interface SqsServer {
  readonly queueUrl: string;
  readonly endpoint: string;
  /** Enqueue a message directly (no HTTP); returns its MessageId. */
  send(body: string): string;
  /** Messages that a receive could return now. */
  visibleCount(): number;
  /** Messages received and neither deleted nor back to visible yet. */
  inFlightCount(): number;
  /** Every message still stored (visible + in flight). */
  totalCount(): number;
  /** Every request so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Answer the next `count` requests (of `operation`, if given) with `status` (default 500). */
  failNext(count: number, opts?: { readonly status?: number; readonly operation?: string }): void;
  /**
   * At-least-once in action: store a second copy of a message (same MessageId and body), visible now, with
   * its own receipt handles, as when SQS delivers a message from two servers.
   */
  duplicate(messageId: string): void;
  /** Make every delete of this message fail (per-entry in batches) until `clearFaults()`. */
  failDeletesOf(messageId: string): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5: string;
  /** Epoch ms before which the message is invisible. */
  invisibleUntil: number;
  /** The handle of the latest receive; only it deletes the message. */
  receiptHandle: string | null;
  receiveCount: number;
}

const ReceiveInput = z.looseObject({
  QueueUrl: z.string(),
  MaxNumberOfMessages: z.number().int().optional(),
  WaitTimeSeconds: z.number().int().optional(),
  VisibilityTimeout: z.number().int().optional(),
});
const DeleteInput = z.looseObject({ QueueUrl: z.string(), ReceiptHandle: z.string() });
const DeleteBatchInput = z.looseObject({
  QueueUrl: z.string(),
  Entries: z.array(z.looseObject({ Id: z.string(), ReceiptHandle: z.string() })),
});
const SendInput = z.looseObject({ QueueUrl: z.string(), MessageBody: z.string() });

class SqsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(message);
  }
}

const md5 = (s: string): string => createHash("md5").update(s, "utf8").digest("hex");

export async function startSqsServer(options: SqsServerOptions = {}): Promise<SqsServer> {
  const queueName = options.queueName ?? "bounce-radar-test";
  const defaultVisibility = options.visibilityTimeoutSeconds ?? 30;
  const failAt = new Set(options.failRequests ?? []);
  const messages: StoredMessage[] = [];
  // Handles from earlier receives of messages still stored: deleting with one "succeeds" but deletes
  // nothing, as SQS documents. Handles of deleted messages stay valid, so a repeated delete succeeds.
  const staleHandles = new Set<string>();
  const deletedHandles = new Set<string>();
  const failingDeletes = new Set<string>();
  const scripted: Array<{ status: number; operation: string | undefined }> = [];
  const requests: RecordedRequest[] = [];
  let handleCounter = 0;
  let stopped = false;
  let queueUrl = "";

  const visible = (m: StoredMessage, now: number) => m.invisibleUntil <= now;

  function newHandle(m: StoredMessage): string {
    handleCounter += 1;
    return Buffer.from(`${m.messageId}#${handleCounter}#${randomUUID()}`).toString("base64url");
  }

  function takeVisible(max: number, visibilitySeconds: number): StoredMessage[] {
    const now = Date.now();
    const out: StoredMessage[] = [];
    for (const m of messages) {
      if (out.length >= max) break;
      if (!visible(m, now)) continue;
      if (m.receiptHandle !== null) staleHandles.add(m.receiptHandle);
      m.receiptHandle = newHandle(m);
      m.invisibleUntil = now + visibilitySeconds * 1000;
      m.receiveCount += 1;
      out.push(m);
    }
    return out;
  }

  function checkQueue(url: string): void {
    if (url !== queueUrl) {
      throw new SqsFault(
        400,
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
        `The specified queue does not exist: ${url}`,
      );
    }
  }

  function parseInput<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
    const r = schema.safeParse(body);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    throw new SqsFault(
      400,
      "InvalidParameterValue",
      "InvalidParameterValue",
      `${issue?.path.join(".") ?? "input"}: ${issue?.message ?? "invalid"}`,
    );
  }

  /** Deletes by receipt handle; returns an error code, or null on success. */
  function deleteByHandle(handle: string): { code: string; message: string; senderFault: boolean } | null {
    const index = messages.findIndex((m) => m.receiptHandle === handle);
    const target = messages[index];
    if (target && failingDeletes.has(target.messageId)) {
      return { code: "InternalError", message: "Scripted delete failure", senderFault: false };
    }
    if (target) {
      messages.splice(index, 1);
      deletedHandles.add(handle);
      return null;
    }
    if (staleHandles.has(handle) || deletedHandles.has(handle)) return null;
    return {
      code: "ReceiptHandleIsInvalid",
      message: `The input receipt handle "${handle}" is not a valid receipt handle.`,
      senderFault: true,
    };
  }

  async function receive(body: unknown): Promise<unknown> {
    const input = parseInput(ReceiveInput, body);
    checkQueue(input.QueueUrl);
    const max = input.MaxNumberOfMessages ?? 1;
    const wait = input.WaitTimeSeconds ?? 0;
    const visibility = input.VisibilityTimeout ?? defaultVisibility;
    if (max < 1 || max > 10) {
      throw new SqsFault(
        400,
        "InvalidParameterValue",
        "InvalidParameterValue",
        `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.`,
      );
    }
    if (wait < 0 || wait > 20) {
      throw new SqsFault(
        400,
        "InvalidParameterValue",
        "InvalidParameterValue",
        "WaitTimeSeconds must be 0-20.",
      );
    }
    if (visibility < 0 || visibility > 43_200) {
      throw new SqsFault(
        400,
        "InvalidParameterValue",
        "InvalidParameterValue",
        "VisibilityTimeout must be 0-43200.",
      );
    }
    // Long polling: answer as soon as something is visible, or empty when the wait ends.
    const deadline = Date.now() + wait * 1000;
    let got = takeVisible(max, visibility);
    while (got.length === 0 && !stopped && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      got = takeVisible(max, visibility);
    }
    if (got.length === 0) return {};
    return {
      Messages: got.map((m) => ({
        MessageId: m.messageId,
        ReceiptHandle: m.receiptHandle,
        MD5OfBody: m.md5,
        Body: m.body,
        Attributes: { ApproximateReceiveCount: String(m.receiveCount) },
      })),
    };
  }

  function deleteBatch(body: unknown): unknown {
    const input = parseInput(DeleteBatchInput, body);
    checkQueue(input.QueueUrl);
    if (input.Entries.length === 0) {
      throw new SqsFault(
        400,
        "EmptyBatchRequest",
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one DeleteMessageBatchRequestEntry in the request.",
      );
    }
    if (input.Entries.length > 10) {
      throw new SqsFault(
        400,
        "TooManyEntriesInBatchRequest",
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        `Maximum number of entries per request are 10. You have sent ${input.Entries.length}.`,
      );
    }
    if (new Set(input.Entries.map((e) => e.Id)).size !== input.Entries.length) {
      throw new SqsFault(
        400,
        "BatchEntryIdsNotDistinct",
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "Two or more batch entries in the request have the same Id.",
      );
    }
    const Successful: Array<{ Id: string }> = [];
    const Failed: Array<{ Id: string; SenderFault: boolean; Code: string; Message: string }> = [];
    for (const entry of input.Entries) {
      const err = deleteByHandle(entry.ReceiptHandle);
      if (err)
        Failed.push({ Id: entry.Id, SenderFault: err.senderFault, Code: err.code, Message: err.message });
      else Successful.push({ Id: entry.Id });
    }
    return { Successful, Failed };
  }

  function deleteOne(body: unknown): unknown {
    const input = parseInput(DeleteInput, body);
    checkQueue(input.QueueUrl);
    const err = deleteByHandle(input.ReceiptHandle);
    if (err) {
      throw new SqsFault(err.senderFault ? 400 : 500, err.code, err.code, err.message);
    }
    return {};
  }

  function sendMessage(body: unknown): unknown {
    const input = parseInput(SendInput, body);
    checkQueue(input.QueueUrl);
    const id = enqueue(input.MessageBody);
    return { MessageId: id, MD5OfMessageBody: md5(input.MessageBody) };
  }

  function enqueue(body: string): string {
    const messageId = randomUUID();
    messages.push({
      messageId,
      body,
      md5: md5(body),
      invisibleUntil: 0,
      receiptHandle: null,
      receiveCount: 0,
    });
    return messageId;
  }

  const operations: Record<string, (body: unknown) => unknown> = {
    ReceiveMessage: receive,
    DeleteMessageBatch: deleteBatch,
    DeleteMessage: deleteOne,
    SendMessage: sendMessage,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("AmazonSQS.") ? target.slice("AmazonSQS.".length) : target;
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = null;
    const recorded: RecordedRequest = {
      n: requests.length + 1,
      operation,
      contentType: req.headers["content-type"],
      body: null,
      status: 200,
    };
    requests.push(recorded);
    try {
      try {
        body = text === "" ? {} : JSON.parse(text);
        recorded.body = body;
      } catch {
        throw new SqsFault(
          400,
          "SerializationException",
          "SerializationException",
          "Request body is not JSON",
        );
      }
      const fault = scripted.findIndex((f) => f.operation === undefined || f.operation === operation);
      if (failAt.has(recorded.n) || fault >= 0) {
        const status = fault >= 0 ? (scripted[fault]?.status ?? 500) : 500;
        if (fault >= 0) scripted.splice(fault, 1);
        throw new SqsFault(status, "InternalFailure", "InternalFailure", "Scripted failure");
      }
      const op = operations[operation];
      if (req.method !== "POST" || !op) {
        throw new SqsFault(
          400,
          "UnknownOperationException",
          "AWS.SimpleQueueService.UnsupportedOperation",
          `Unsupported target ${JSON.stringify(target)}`,
        );
      }
      reply(res, recorded, 200, await op(body), {});
    } catch (e) {
      if (!(e instanceof SqsFault)) throw e;
      reply(
        res,
        recorded,
        e.status,
        { __type: `com.amazonaws.sqs#${e.code}`, message: e.message },
        { "x-amzn-query-error": `${e.queryCode};${e.status < 500 ? "Sender" : "Receiver"}` },
      );
    }
  }

  function reply(
    res: ServerResponse,
    recorded: RecordedRequest,
    status: number,
    payload: unknown,
    headers: Record<string, string>,
  ): void {
    recorded.status = status;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.0",
      "content-length": Buffer.byteLength(text),
      "x-amzn-requestid": randomUUID(),
      ...headers,
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  queueUrl = options.queueUrl ?? `${endpoint}/000000000000/${queueName}`;

  return {
    queueUrl,
    endpoint,
    requests,
    send: enqueue,
    visibleCount: () => {
      const now = Date.now();
      return messages.filter((m) => visible(m, now)).length;
    },
    inFlightCount: () => {
      const now = Date.now();
      return messages.filter((m) => !visible(m, now)).length;
    },
    totalCount: () => messages.length,
    failNext(count, opts = {}) {
      for (let i = 0; i < count; i++)
        scripted.push({ status: opts.status ?? 500, operation: opts.operation });
    },
    duplicate(messageId) {
      const original = messages.find((m) => m.messageId === messageId);
      if (!original) throw new Error(`no stored message ${messageId}`);
      messages.push({ ...original, invisibleUntil: 0, receiptHandle: null, receiveCount: 0 });
    },
    failDeletesOf(messageId) {
      failingDeletes.add(messageId);
    },
    clearFaults() {
      failingDeletes.clear();
      scripted.length = 0;
      failAt.clear();
    },
    stop: async () => {
      stopped = true;
      await new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // The SDK keeps connections alive; close them or close() waits for their idle timeout.
        server.closeAllConnections();
      });
    },
  };
}

/** An SQSClient for the local server: endpoint override and dummy static credentials (tests only). */
export function sqsTestClient(server: Pick<SqsServer, "endpoint">, config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({
    endpoint: server.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    ...config,
  });
}
