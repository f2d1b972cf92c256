import {
  DeleteMessageBatchCommand,
  type DeleteMessageBatchCommandOutput,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import * as z from "zod";

/** One received queue message. `receiptHandle` is what deletes it; it changes on every redelivery. */
export interface SqsMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
}

export interface SqsQueueOptions {
  readonly queueUrl: string;
  readonly client?: SQSClient;
  /** Long-poll wait per receive, 0-20 s (default 20: fewer empty receives, lower cost). */
  readonly waitTimeSeconds?: number;
  /** Seconds received messages stay invisible; unset uses the queue's own setting. */
  readonly visibilityTimeout?: number;
}

export interface DrainOptions {
  /** Stop after this many messages (receives ask for no more than what is left). */
  readonly maxMessages: number;
  /** Consecutive empty receives that mean "the queue is empty" (SQS can answer empty while holding some). */
  readonly maxEmptyReceives?: number;
}

export interface FailedDelete {
  readonly messageId: string;
  readonly code: string;
  readonly message: string;
}

/** Some deletes failed: those messages will come back after their visibility timeout (events dedupe by id). */
export class SqsDeleteError extends Error {
  constructor(readonly failed: readonly FailedDelete[]) {
    super(
      `SQS delete failed for ${failed.length} message(s): ${failed.map((f) => `${f.messageId} (${f.code}: ${f.message})`).join("; ")}`,
    );
    this.name = "SqsDeleteError";
  }
}

const MAX_PER_CALL = 10;

const ReceivedSchema = z.array(
  z.looseObject({ MessageId: z.string().min(1), ReceiptHandle: z.string().min(1), Body: z.string() }),
);

/**
 * The queue SES events land in (SNS or EventBridge → SQS). It never deletes on its own: the pipeline calls
 * `deleteMessages` only after the events are durably written (nothing is acknowledged early).
 */
export class SqsQueue {
  private readonly queueUrl: string;
  private readonly client: SQSClient;
  private readonly waitTimeSeconds: number;
  private readonly visibilityTimeout: number | undefined;

  constructor(options: SqsQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.client = options.client ?? new SQSClient({});
    this.waitTimeSeconds = options.waitTimeSeconds ?? 20;
    this.visibilityTimeout = options.visibilityTimeout;
  }

  /** One receive of up to `maxNumberOfMessages` (1-10); empty when the long poll found nothing. */
  async receive(maxNumberOfMessages = MAX_PER_CALL): Promise<SqsMessage[]> {
    const out = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(MAX_PER_CALL, maxNumberOfMessages)),
        WaitTimeSeconds: this.waitTimeSeconds,
        ...(this.visibilityTimeout === undefined ? {} : { VisibilityTimeout: this.visibilityTimeout }),
      }),
    );
    const parsed = ReceivedSchema.safeParse(out.Messages ?? []);
    if (!parsed.success) {
      // A message without an id or handle could never be deleted: fail loudly rather than loop on it.
      throw new Error(`SQS returned a malformed message: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    }
    return parsed.data.map((m) => ({ messageId: m.MessageId, receiptHandle: m.ReceiptHandle, body: m.Body }));
  }

  /**
   * Deletes in batches of 10. Every chunk is attempted even when one fails, then an `SqsDeleteError` lists
   * the messages not deleted (per-entry failures and whole failed calls alike).
   */
  async deleteMessages(messages: readonly Pick<SqsMessage, "messageId" | "receiptHandle">[]): Promise<void> {
    const failed: FailedDelete[] = [];
    for (let start = 0; start < messages.length; start += MAX_PER_CALL) {
      const chunk = messages.slice(start, start + MAX_PER_CALL);
      // Entry ids are positions, not MessageIds: a duplicate delivery puts one MessageId in a batch twice,
      // and SQS rejects a batch whose ids repeat.
      const entries = chunk.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.receiptHandle }));
      let out: DeleteMessageBatchCommandOutput;
      try {
        out = await this.client.send(
          new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
        );
      } catch (e) {
        const err = e as Error;
        for (const m of chunk) failed.push({ messageId: m.messageId, code: err.name, message: err.message });
        continue;
      }
      const ok = new Set((out.Successful ?? []).map((s) => s.Id));
      const failures = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
      chunk.forEach((m, i) => {
        const id = `m${i}`;
        if (ok.has(id)) return;
        const f = failures.get(id);
        failed.push({
          messageId: m.messageId,
          code: f?.Code ?? "NoResult",
          message: f?.Message ?? "SQS reported neither success nor failure for this entry",
        });
      });
    }
    if (failed.length > 0) throw new SqsDeleteError(failed);
  }

  /**
   * Receives batch after batch until `maxMessages` or until `maxEmptyReceives` receives in a row come back
   * empty. Deletes nothing: the caller deletes each batch once its events are written.
   */
  async *drain(options: DrainOptions): AsyncGenerator<SqsMessage[], void, undefined> {
    const maxEmpty = options.maxEmptyReceives ?? 1;
    let received = 0;
    let empty = 0;
    while (received < options.maxMessages) {
      const batch = await this.receive(options.maxMessages - received);
      if (batch.length === 0) {
        empty += 1;
        if (empty >= maxEmpty) return;
        continue;
      }
      empty = 0;
      received += batch.length;
      yield batch;
    }
  }
}
