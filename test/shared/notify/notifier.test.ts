import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatAlert } from "../../../shared/notify/alert-message.ts";
import { ConsoleNotifier } from "../../../shared/notify/notifier.ts";
import { isRetryable, SnsNotifier, SnsPublishError } from "../../../shared/notify/sns-notifier.ts";
import { type SnsServer, snsTestClient, startSnsServer } from "../../support/sns-server.ts";
import { CTX, recipientIncident } from "./incident-fixture.ts";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:bounce-radar-alerts";
const message = formatAlert("new", recipientIncident(), CTX);

describe("SnsNotifier against a local SNS endpoint", () => {
  let server: SnsServer;
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
  };

  beforeAll(async () => {
    server = await startSnsServer();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    slept.length = 0;
  });

  it("publishes a JSON-structured message with default/email/sms, the subject and the attributes", async () => {
    const notifier = new SnsNotifier({ topicArn: TOPIC, client: snsTestClient(server), sleep });
    const before = server.publishes.length;
    const { messageId } = await notifier.publish(message);
    const got = server.publishes[before];
    expect(got?.messageId).toBe(messageId);
    expect(got?.topicArn).toBe(TOPIC);
    expect(got?.messageStructure).toBe("json");
    expect(got?.subject).toBe(message.subject);
    expect(JSON.parse(got?.message ?? "{}")).toEqual({
      default: message.sms,
      email: message.email,
      sms: message.sms,
    });
    expect(got?.attributes).toEqual({
      verdict: { dataType: "String", stringValue: "recipient_filter" },
      side: { dataType: "String", stringValue: "recipient" },
      severity: { dataType: "String", stringValue: "critical" },
    });
    expect(slept).toEqual([]);
  });

  it("retries a 500 and a throttling error with backoff, then succeeds", async () => {
    const notifier = new SnsNotifier({
      topicArn: TOPIC,
      client: snsTestClient(server),
      sleep,
      baseDelayMs: 100,
    });
    server.failNext(1, 500);
    server.failNext(1, "throttling");
    const before = server.publishes.length;
    const requests = server.requestCount();
    await notifier.publish(message);
    expect(server.requestCount() - requests).toBe(3);
    expect(server.publishes.length - before).toBe(1);
    expect(slept).toEqual([100, 200]);
  });

  it("throws after maxAttempts naming the topic, without credentials", async () => {
    const notifier = new SnsNotifier({
      topicArn: TOPIC,
      client: snsTestClient(server),
      sleep,
      maxAttempts: 3,
    });
    server.failNext(3, 503);
    const requests = server.requestCount();
    const error = await notifier.publish(message).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SnsPublishError);
    expect((error as SnsPublishError).message).toContain(TOPIC);
    expect((error as SnsPublishError).message).toContain("after 3 attempt(s)");
    expect((error as SnsPublishError).message).not.toMatch(/AKIDTEST|test-secret/);
    expect(server.requestCount() - requests).toBe(3);
    expect(slept).toHaveLength(2);
  });

  it("does not retry a client error", async () => {
    const notifier = new SnsNotifier({ topicArn: TOPIC, client: snsTestClient(server), sleep });
    const requests = server.requestCount();
    const tooLong = { ...message, subject: "x".repeat(120) };
    await expect(notifier.publish(tooLong)).rejects.toThrow(/after 1 attempt\(s\).*InvalidParameter/);
    expect(server.requestCount() - requests).toBe(1);
  });

  it("retries when nothing answers, then names the topic", async () => {
    const dead = await startSnsServer();
    await dead.stop();
    const notifier = new SnsNotifier({ topicArn: TOPIC, client: snsTestClient(dead), sleep, maxAttempts: 2 });
    await expect(notifier.publish(message)).rejects.toThrow(TOPIC);
    expect(slept).toHaveLength(1);
  });
});

describe("isRetryable", () => {
  it("classifies errors", () => {
    expect(isRetryable(Object.assign(new Error("x"), { name: "Throttling" }))).toBe(true);
    expect(isRetryable(Object.assign(new Error("x"), { $metadata: { httpStatusCode: 502 } }))).toBe(true);
    expect(isRetryable(Object.assign(new Error("x"), { $metadata: { httpStatusCode: 403 } }))).toBe(false);
    expect(isRetryable(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBe(
      true,
    );
    expect(isRetryable("nope")).toBe(false);
  });
});

describe("ConsoleNotifier", () => {
  it("prints the subject and the email body", async () => {
    const out: string[] = [];
    const notifier = new ConsoleNotifier((t) => out.push(t));
    const { messageId } = await notifier.publish(message);
    expect(messageId).toBe("console-1");
    expect(out).toHaveLength(1);
    expect(out[0]?.startsWith(`${message.subject}\n`)).toBe(true);
    expect(out[0]).toContain(message.email);
  });
});
