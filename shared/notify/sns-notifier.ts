import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { AlertMessage } from "./alert-message.ts";
import type { Notifier } from "./notifier.ts";

export interface SnsNotifierOptions {
  readonly topicArn: string;
  /**
   * Defaults to a client with the SDK's own retries off (maxAttempts 1), so `maxAttempts` below is the one
   * retry budget; a client passed in keeps whatever retry settings it was built with.
   */
  readonly client?: SNSClient;
  /** Total attempts per publish, the first included. */
  readonly maxAttempts?: number;
  /** Injectable so tests do not wait; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** First backoff; doubles after each failed attempt. */
  readonly baseDelayMs?: number;
}

/** A publish that failed for good. Names the topic, never credentials or the message. */
export class SnsPublishError extends Error {
  override readonly name = "SnsPublishError";
  constructor(
    readonly topicArn: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`SNS publish to ${topicArn} failed after ${attempts} attempt(s): ${describe(cause)}`, { cause });
  }
}

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "KMSThrottlingException",
]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
]);

/** Publishes to one SNS topic with a per-protocol message (default/email/sms) and filterable attributes. */
export class SnsNotifier implements Notifier {
  private readonly topicArn: string;
  private readonly client: SNSClient;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly baseDelayMs: number;

  constructor(options: SnsNotifierOptions) {
    this.topicArn = options.topicArn;
    this.client = options.client ?? new SNSClient({ maxAttempts: 1 });
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.baseDelayMs = options.baseDelayMs ?? 200;
  }

  async publish(message: AlertMessage): Promise<{ messageId: string }> {
    const command = new PublishCommand({
      TopicArn: this.topicArn,
      Subject: message.subject,
      MessageStructure: "json",
      // SNS requires "default" with MessageStructure json; HTTP/SQS/Lambda subscribers get the short form.
      Message: JSON.stringify({ default: message.sms, email: message.email, sms: message.sms }),
      MessageAttributes: {
        verdict: { DataType: "String", StringValue: message.attributes.verdict },
        side: { DataType: "String", StringValue: message.attributes.side },
        severity: { DataType: "String", StringValue: message.attributes.severity },
      },
    });
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.client.send(command);
        return { messageId: out.MessageId ?? "" };
      } catch (error) {
        if (attempt >= this.maxAttempts || !isRetryable(error)) {
          throw new SnsPublishError(this.topicArn, attempt, error);
        }
        await this.sleep(this.baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }
}

/** Throttling, 5xx and connection failures are worth another try; a 4xx (bad topic, no permission) is not. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & {
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if (THROTTLING.has(e.name)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number") return status >= 500 || status === 429;
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  // No HTTP status at all: the request never got an answer (socket closed, timeout).
  return e.name === "TimeoutError" || /socket hang up|ECONNRESET|ECONNREFUSED|network/i.test(e.message);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${error.name}${status ? ` (HTTP ${status})` : ""}: ${error.message}`;
  }
  return String(error);
}
