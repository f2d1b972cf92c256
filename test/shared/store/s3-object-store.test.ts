import { randomBytes } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3ObjectStore, s3ClientForEndpoint } from "../../../shared/store/s3-object-store.ts";
import { type RunningS3rver, startS3rver } from "../../support/s3rver.ts";
import { collect, objectStoreContract } from "./object-store-contract.ts";

let server: RunningS3rver;
let client: S3Client;

beforeAll(async () => {
  server = await startS3rver();
  client = s3ClientForEndpoint(server.endpoint, "us-east-1", {
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

/** Each test gets its own key prefix in the shared bucket, which also exercises the prefix option. */
function freshStore(): S3ObjectStore {
  return new S3ObjectStore({
    bucket: server.bucket,
    prefix: `t-${randomBytes(4).toString("hex")}`,
    client,
    // s3rver ignores If-None-Match.
    conditionalPut: "check-then-put",
  });
}

objectStoreContract("S3ObjectStore on s3rver", async () => freshStore(), { byteOrderAcrossFolders: false });

describe("S3ObjectStore specifics", () => {
  it("keeps deployments under different prefixes apart", async () => {
    const a = new S3ObjectStore({ bucket: server.bucket, prefix: "deploy-a/", client });
    const b = new S3ObjectStore({ bucket: server.bucket, prefix: "deploy-a-b", client });
    expect(a.location).toBe(`s3://${server.bucket}/deploy-a`);
    await a.put("state/alerts.json", "a");
    await b.put("state/alerts.json", "b");
    expect(await collect(a.list(""))).toEqual([{ key: "state/alerts.json", size: 1 }]);
    expect(Buffer.from((await b.get("state/alerts.json")) ?? []).toString()).toBe("b");
    const whole = new S3ObjectStore({ bucket: server.bucket, client });
    expect(whole.location).toBe(`s3://${server.bucket}`);
    expect(Buffer.from((await whole.get("deploy-a/state/alerts.json")) ?? []).toString()).toBe("a");
  });

  it("names the bucket and key when the SDK fails", async () => {
    const store = new S3ObjectStore({ bucket: "no-such-bucket", client });
    await expect(store.get("state/alerts.json")).rejects.toThrow(
      /s3:\/\/no-such-bucket\/state\/alerts\.json.*NoSuchBucket/,
    );
    await expect(store.put("state/alerts.json", "x")).rejects.toThrow(
      /s3:\/\/no-such-bucket\/state\/alerts\.json/,
    );
    await expect(collect(store.list("state/"))).rejects.toThrow(/no-such-bucket/);
  });
});

/** A client double that records commands and answers from a script, for what s3rver cannot do. */
function scriptedClient(answers: Array<() => unknown>): { client: S3Client; sent: unknown[] } {
  const sent: unknown[] = [];
  const fake = {
    async send(command: { input: unknown }) {
      sent.push(command);
      const answer = answers.shift();
      if (!answer) throw new Error("unexpected command");
      return answer();
    },
  };
  return { client: fake as unknown as S3Client, sent };
}

function s3Failure(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status } });
}

describe("S3ObjectStore native conditional put", () => {
  it("sends If-None-Match: * and reports 412 as already present", async () => {
    const { client: fake, sent } = scriptedClient([
      () => ({}),
      () => {
        throw s3Failure("PreconditionFailed", 412);
      },
    ]);
    const store = new S3ObjectStore({ bucket: "b", prefix: "p", client: fake });
    expect(await store.put("audit/2024-01-01/x", "1", { ifAbsent: true })).toBe(true);
    expect(await store.put("audit/2024-01-01/x", "2", { ifAbsent: true })).toBe(false);
    expect(sent.length).toBe(2);
    const first = sent[0];
    expect(first).toBeInstanceOf(PutObjectCommand);
    expect((first as PutObjectCommand).input).toMatchObject({
      Bucket: "b",
      Key: "p/audit/2024-01-01/x",
      IfNoneMatch: "*",
    });
  });

  it("retries a 409 conflict, and does not swallow a 412 on a plain put", async () => {
    const { client: fake, sent } = scriptedClient([
      () => {
        throw s3Failure("ConditionalRequestConflict", 409);
      },
      () => ({}),
      () => {
        throw s3Failure("PreconditionFailed", 412);
      },
    ]);
    const store = new S3ObjectStore({ bucket: "b", client: fake });
    expect(await store.put("k", "1", { ifAbsent: true })).toBe(true);
    expect(sent.length).toBe(2);
    await expect(store.put("k", "2")).rejects.toThrow(/s3:\/\/b\/k failed: PreconditionFailed/);
    expect((sent[2] as PutObjectCommand).input.IfNoneMatch).toBeUndefined();
  });
});
