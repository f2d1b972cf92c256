import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import {
  SqsDeleteError,
  type SqsMessage,
  SqsQueue,
} from "../../../../../shared/sources/esp/ses/sqs-queue.ts";
import { type SqsServer, sqsTestClient, startSqsServer } from "../../../../support/sqs-server.ts";

// Against a real HTTP server speaking the SQS JSON protocol, through the real SDK client: serialisation,
// retries, checksums and batch limits are all exercised.

const open: Array<{ server: SqsServer; client: SQSClient }> = [];

async function setup(
  opts: {
    visibilityTimeout?: number;
    waitTimeSeconds?: number;
    maxAttempts?: number;
    messages?: number;
  } = {},
) {
  const server = await startSqsServer();
  const client = sqsTestClient(server, { maxAttempts: opts.maxAttempts ?? 3 });
  open.push({ server, client });
  const queue = new SqsQueue({
    queueUrl: server.queueUrl,
    client,
    waitTimeSeconds: opts.waitTimeSeconds ?? 0,
    visibilityTimeout: opts.visibilityTimeout ?? 30,
  });
  const ids = Array.from({ length: opts.messages ?? 0 }, (_, i) => server.send(JSON.stringify({ n: i })));
  return { server, client, queue, ids };
}

afterEach(async () => {
  for (const { server, client } of open.splice(0)) {
    client.destroy();
    await server.stop();
  }
});

async function collect(batches: AsyncIterable<SqsMessage[]>): Promise<SqsMessage[][]> {
  const out: SqsMessage[][] = [];
  for await (const b of batches) out.push(b);
  return out;
}

const operations = (server: SqsServer, op: string) => server.requests.filter((r) => r.operation === op);

describe("SqsQueue", () => {
  it("drains every message in batches of at most 10 and deletes nothing by itself", async () => {
    const { server, queue, ids } = await setup({ messages: 25 });
    const batches = await collect(queue.drain({ maxMessages: 1000 }));

    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const got = batches.flat();
    expect(new Set(got.map((m) => m.messageId))).toEqual(new Set(ids));
    expect(got.map((m) => JSON.parse(m.body).n).sort((a, b) => a - b)).toEqual([...Array(25).keys()]);
    // Received, not acknowledged: still stored, just invisible.
    expect(server.totalCount()).toBe(25);
    expect(server.inFlightCount()).toBe(25);
    expect(server.visibleCount()).toBe(0);
    expect(server.requests.every((r) => r.operation === "ReceiveMessage")).toBe(true);
    // The last receive found the queue empty; that is what ended the drain.
    expect(operations(server, "ReceiveMessage")).toHaveLength(4);
  });

  it("sends the receive parameters it was configured with", async () => {
    const { server, queue } = await setup({ visibilityTimeout: 45, waitTimeSeconds: 1, messages: 1 });
    await queue.receive();
    expect(server.requests[0]?.contentType).toBe("application/x-amz-json-1.0");
    expect(server.requests[0]?.body).toEqual({
      QueueUrl: server.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 45,
    });
  });

  it("stops at maxMessages, asking only for what is left", async () => {
    const { server, queue } = await setup({ messages: 25 });
    const batches = await collect(queue.drain({ maxMessages: 13 }));
    expect(batches.flat()).toHaveLength(13);
    expect(
      operations(server, "ReceiveMessage").map(
        (r) => (r.body as { MaxNumberOfMessages: number }).MaxNumberOfMessages,
      ),
    ).toEqual([10, 3]);
    expect(server.visibleCount()).toBe(12);
  });

  it("waits out empty long polls up to maxEmptyReceives and sees a message that arrives meanwhile", async () => {
    const { server, queue } = await setup({ waitTimeSeconds: 1 });
    setTimeout(() => server.send("late"), 300);
    const started = Date.now();
    const batches = await collect(queue.drain({ maxMessages: 10, maxEmptyReceives: 1 }));
    expect(batches.flat().map((m) => m.body)).toEqual(["late"]);
    // The long poll answered when the message arrived, then one empty poll (~1 s) ended the drain.
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("deletes in chunks of 10 (SQS refuses more) only when asked", async () => {
    const { server, queue } = await setup({ messages: 25 });
    const got = (await collect(queue.drain({ maxMessages: 100 }))).flat();
    await queue.deleteMessages(got);
    expect(server.totalCount()).toBe(0);
    expect(
      operations(server, "DeleteMessageBatch").map((r) => (r.body as { Entries: unknown[] }).Entries.length),
    ).toEqual([10, 10, 5]);
  });

  it("gets undeleted messages back after the visibility timeout, with new receipt handles", async () => {
    const { server, queue } = await setup({ visibilityTimeout: 1, messages: 6 });
    const first = (await collect(queue.drain({ maxMessages: 100 }))).flat();
    expect(first).toHaveLength(6);
    await queue.deleteMessages(first.slice(0, 2));
    expect(await queue.receive()).toEqual([]);

    await new Promise((r) => setTimeout(r, 1150));
    expect(server.visibleCount()).toBe(4);
    const again = (await collect(queue.drain({ maxMessages: 100 }))).flat();
    expect(again.map((m) => m.messageId).sort()).toEqual(
      first
        .slice(2)
        .map((m) => m.messageId)
        .sort(),
    );
    for (const m of again) {
      expect(m.receiptHandle).not.toBe(first.find((f) => f.messageId === m.messageId)?.receiptHandle);
    }
    // A stale handle "succeeds" without deleting (SQS semantics): only the latest handle acknowledges.
    await queue.deleteMessages(first.slice(2));
    expect(server.totalCount()).toBe(4);
    await queue.deleteMessages(again);
    expect(server.totalCount()).toBe(0);
  });

  it("reports per-entry delete failures by message id and still deletes the rest", async () => {
    const { server, queue } = await setup({ messages: 12 });
    const got = (await collect(queue.drain({ maxMessages: 100 }))).flat();
    const failing = got[3] as SqsMessage;
    server.failDeletesOf(failing.messageId);
    const bogus = { messageId: "not-from-this-queue", receiptHandle: "bogus-handle" };

    const err = await queue.deleteMessages([...got, bogus]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SqsDeleteError);
    const failed = (err as SqsDeleteError).failed;
    expect(failed.map((f) => [f.messageId, f.code])).toEqual([
      [failing.messageId, "InternalError"],
      ["not-from-this-queue", "ReceiptHandleIsInvalid"],
    ]);
    expect((err as Error).message).toContain(failing.messageId);
    expect((err as Error).message).toContain("not-from-this-queue");
    expect(server.totalCount()).toBe(1);
  });

  it("reports a whole failed delete call as failures of each message in it", async () => {
    const { server, queue } = await setup({ messages: 3, maxAttempts: 1 });
    const got = await queue.receive();
    server.failNext(1, { operation: "DeleteMessageBatch", status: 503 });
    const err = await queue.deleteMessages(got).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SqsDeleteError);
    expect((err as SqsDeleteError).failed.map((f) => f.messageId).sort()).toEqual(
      got.map((m) => m.messageId).sort(),
    );
    expect(server.totalCount()).toBe(3);
  });

  it("survives a single scripted 500: the SDK retries it", async () => {
    const { server, queue, ids } = await setup({ messages: 2 });
    server.failNext(1, { operation: "ReceiveMessage" });
    const got = await queue.receive();
    expect(got.map((m) => m.messageId).sort()).toEqual([...ids].sort());
    expect(operations(server, "ReceiveMessage").map((r) => r.status)).toEqual([500, 200]);
  });

  it("surfaces 500s that outlast the SDK's retries as an error, losing nothing", async () => {
    const { server, queue } = await setup({ messages: 2, maxAttempts: 2 });
    server.failNext(2, { operation: "ReceiveMessage" });
    await expect(queue.receive()).rejects.toMatchObject({
      name: "InternalFailure",
      $metadata: { httpStatusCode: 500, attempts: 2 },
    });
    expect(server.visibleCount()).toBe(2);
    expect(await queue.receive()).toHaveLength(2);
  });

  it("passes a duplicate delivery through (at-least-once) and can delete both copies in one batch", async () => {
    const { server, queue, ids } = await setup({ messages: 3 });
    server.duplicate(ids[1] as string);
    const got = (await collect(queue.drain({ maxMessages: 100 }))).flat();
    expect(got.map((m) => m.messageId).filter((id) => id === ids[1])).toHaveLength(2);
    await queue.deleteMessages(got);
    expect(server.totalCount()).toBe(0);
  });

  it("fails loudly on a queue that does not exist", async () => {
    const { server, client } = await setup();
    const wrong = new SqsQueue({ queueUrl: `${server.queueUrl}-missing`, client, waitTimeSeconds: 0 });
    await expect(wrong.receive()).rejects.toMatchObject({ name: "QueueDoesNotExist" });
  });
});
