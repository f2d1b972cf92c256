import type { RecordedCall } from "./aws-call-recorder.ts";

/*
 * What IAM authorises for a recorded AWS call: its action(s), the resource ARN and the request's condition
 * context, as the Service Authorization Reference documents them
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 * S3 operations map to IAM actions by the table in
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html: HEAD and GET of an
 * object need s3:GetObject, every part of a multipart upload s3:PutObject, ListObjectsV2 s3:ListBucket on the
 * bucket (with s3:prefix), a batch delete s3:DeleteObject per key. An operation this file does not know fails
 * the test rather than passing unchecked.
 */

export interface IamRequest {
  readonly action: string;
  /** The resource ARN, or "*" for actions with no resource types (e.g. ses:GetAccount). */
  readonly resource: string;
  readonly context: Readonly<Record<string, string | string[]>>;
  /** What was called, for messages: `DELETE /bucket/key`. */
  readonly call: string;
  readonly caller: string;
}

export interface AccountFacts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** Secret name → its full ARN (a name in SecretId is authorised against the ARN). */
  readonly secretArnOf: (nameOrArn: string) => string;
}

export function iamRequestsOf(call: RecordedCall, facts: AccountFacts): IamRequest[] {
  const described = `${call.method} ${decodeURIComponent(call.url.split("?")[0] ?? "")}`;
  const make = (action: string, resource: string, context: Record<string, string | string[]> = {}) => ({
    action,
    resource,
    context,
    call: `${call.service} ${described}`,
    caller: call.caller,
  });
  switch (call.service) {
    case "s3":
      return s3Requests(call, facts).map(([a, r, c]) => make(a, r, c));
    case "secretsmanager": {
      const { operation, body } = jsonTarget(call, "secretsmanager.");
      const id = String(body.SecretId ?? "");
      if (operation === "GetSecretValue" || operation === "DescribeSecret")
        return [make(`secretsmanager:${operation}`, facts.secretArnOf(id))];
      throw unknown(call, operation);
    }
    case "sqs": {
      const { operation, body } = jsonTarget(call, "AmazonSQS.");
      const queue = queueArnOfUrl(String(body.QueueUrl ?? ""), facts);
      const action = {
        DeleteMessageBatch: "DeleteMessage",
        ChangeMessageVisibilityBatch: "ChangeMessageVisibility",
      }[operation];
      if (
        [
          "ReceiveMessage",
          "DeleteMessage",
          "ChangeMessageVisibility",
          "GetQueueAttributes",
          "DeleteMessageBatch",
          "ChangeMessageVisibilityBatch",
        ].includes(operation)
      )
        return [make(`sqs:${action ?? operation}`, queue)];
      throw unknown(call, operation);
    }
    case "sns": {
      const form = new URLSearchParams(call.body.toString("utf8"));
      const operation = form.get("Action") ?? "";
      if (operation === "Publish") return [make("sns:Publish", form.get("TopicArn") ?? "")];
      throw unknown(call, operation);
    }
    case "sesv2": {
      const path = call.url.split("?")[0];
      // GetAccount has no resource types: IAM authorises it on "*" only.
      if (call.method === "GET" && path === "/v2/email/account")
        return [make("ses:GetAccount", "*", { "aws:RequestedRegion": facts.region })];
      throw unknown(call, `${call.method} ${path}`);
    }
    case "cloudwatch": {
      const { operation } = jsonTarget(call, "GraniteServiceVersion20100801.");
      if (operation === "GetMetricData")
        return [make("cloudwatch:GetMetricData", "*", { "aws:RequestedRegion": facts.region })];
      throw unknown(call, operation);
    }
  }
}

type S3Need = [action: string, resource: string, context?: Record<string, string | string[]>];

function s3Requests(call: RecordedCall, facts: AccountFacts): S3Need[] {
  const [path = "/", query = ""] = call.url.split("?");
  const params = new URLSearchParams(query);
  // Path-style: /bucket/key (the key URL-encoded segment by segment).
  const [, bucket = "", ...rest] = path.split("/");
  const key = rest.map(decodeURIComponent).join("/");
  const bucketArn = `arn:${facts.partition}:s3:::${bucket}`;
  const objectArn = `${bucketArn}/${key}`;
  const m = call.method;
  if (key === "") {
    if (m === "GET" && params.get("list-type") === "2")
      return [
        [
          "s3:ListBucket",
          bucketArn,
          {
            "s3:prefix": params.get("prefix") ?? "",
            ...(params.has("delimiter") ? { "s3:delimiter": params.get("delimiter") ?? "" } : {}),
          },
        ],
      ];
    if (m === "POST" && params.has("delete")) {
      const keys = [...call.body.toString("utf8").matchAll(/<Key>([^<]*)<\/Key>/g)].map((x) =>
        xmlText(x[1] ?? ""),
      );
      return keys.map((k) => ["s3:DeleteObject", `${bucketArn}/${k}`]);
    }
    throw unknown(call, `${m} bucket ?${query}`);
  }
  if (m === "GET" || m === "HEAD") {
    if (params.has("versionId")) return [["s3:GetObjectVersion", objectArn]];
    return [["s3:GetObject", objectArn]];
  }
  if (m === "PUT") {
    const copySource = call.headers["x-amz-copy-source"];
    if (copySource) {
      const source = decodeURIComponent(copySource.replace(/^\//, ""));
      return [
        ["s3:PutObject", objectArn],
        ["s3:GetObject", `arn:${facts.partition}:s3:::${source}`],
      ];
    }
    if (params.has("tagging")) return [["s3:PutObjectTagging", objectArn]];
    return [["s3:PutObject", objectArn]];
  }
  if (m === "POST" && (params.has("uploads") || params.has("uploadId"))) return [["s3:PutObject", objectArn]];
  if (m === "DELETE") {
    if (params.has("uploadId")) return [["s3:AbortMultipartUpload", objectArn]];
    if (params.has("versionId")) return [["s3:DeleteObjectVersion", objectArn]];
    return [["s3:DeleteObject", objectArn]];
  }
  throw unknown(call, `${m} object ?${query}`);
}

function jsonTarget(
  call: RecordedCall,
  prefix: string,
): { operation: string; body: Record<string, unknown> } {
  const target = call.headers["x-amz-target"] ?? "";
  if (!target.startsWith(prefix)) throw unknown(call, target);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(call.body.toString("utf8")) as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { operation: target.slice(prefix.length), body };
}

/** https://sqs.{region}.amazonaws.com/{account}/{name} (or a local fake's URL) → the queue's ARN. */
function queueArnOfUrl(url: string, facts: AccountFacts): string {
  const m = /\/(\d{12})\/([^/?]+)$/.exec(url);
  if (!m) throw new Error(`not a queue URL: ${url}`);
  const region = /sqs\.([a-z0-9-]+)\.amazonaws/.exec(url)?.[1] ?? facts.region;
  return `arn:${facts.partition}:sqs:${region}:${m[1]}:${m[2]}`;
}

function xmlText(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

function unknown(call: RecordedCall, what: string): Error {
  return new Error(
    `${call.caller}: ${call.service} call ${what} (${call.method} ${call.url}) has no IAM mapping in test/support/iam-requests.ts: add it, from the Service Authorization Reference`,
  );
}
