import { createHash } from "node:crypto";
import {
  DeleteObjectCommand,
  type DeleteObjectCommandInput,
  GetObjectCommand,
  type GetObjectCommandInput,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { acquireLease } from "../../../shared/store/lease.ts";
import { S3ObjectStore } from "../../../shared/store/s3-object-store.ts";

/*
 * S3's conditional writes and deletes (If-None-Match, If-Match) answered the way AWS documents them
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html, .../conditional-deletes.html):
 * 412 when the condition fails, 404 NoSuchKey for If-Match on a missing key, 409 when another conditional
 * request on the key got in first. s3rver has none of it, so the client is mocked (aws-sdk-client-mock).
 */

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

function failure(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status } });
}

const bodyOf = (bytes: Uint8Array) => ({ transformToByteArray: async () => bytes });
const bytesOf = (body: PutObjectCommandInput["Body"]): Uint8Array =>
  typeof body === "string" ? Buffer.from(body) : (body as Uint8Array);

/** A bucket in memory that keeps S3's conditional semantics; `conflicts` makes the next N writes answer 409. */
function conditionalBucket() {
  const objects = new Map<string, { body: Uint8Array; etag: string }>();
  const state = { conflicts: 0 };
  const conflict = () => {
    if (state.conflicts <= 0) return false;
    state.conflicts--;
    return true;
  };
  s3.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
    const object = objects.get(input.Key ?? "");
    if (!object) throw failure("NoSuchKey", 404);
    return { Body: bodyOf(object.body), ETag: object.etag };
  });
  s3.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
    const key = input.Key ?? "";
    // Let other requests interleave, as concurrent HTTP requests would.
    await new Promise((done) => setImmediate(done));
    if (conflict()) throw failure("ConditionalRequestConflict", 409);
    const current = objects.get(key);
    if (input.IfNoneMatch === "*" && current) throw failure("PreconditionFailed", 412);
    if (input.IfMatch !== undefined && !current) throw failure("NoSuchKey", 404);
    if (input.IfMatch !== undefined && current?.etag !== input.IfMatch)
      throw failure("PreconditionFailed", 412);
    const body = bytesOf(input.Body);
    const etag = `"${createHash("md5").update(body).digest("hex")}"`;
    objects.set(key, { body, etag });
    return { ETag: etag };
  });
  s3.on(DeleteObjectCommand).callsFake(async (input: DeleteObjectCommandInput) => {
    const key = input.Key ?? "";
    await new Promise((done) => setImmediate(done));
    if (input.IfMatch !== undefined && conflict()) throw failure("ConditionalRequestConflict", 409);
    const current = objects.get(key);
    if (input.IfMatch !== undefined && !current) throw failure("NoSuchKey", 404);
    if (input.IfMatch !== undefined && current?.etag !== input.IfMatch)
      throw failure("PreconditionFailed", 412);
    objects.delete(key);
    return {};
  });
  return { objects, state };
}

const store = () => new S3ObjectStore({ bucket: "b", client: new S3Client({ region: "us-east-1" }) });
const KEY = "state/leases/analyze.json";
const NOW = new Date("2026-12-08T03:00:00.000Z");

describe("S3ObjectStore conditional writes and deletes", () => {
  it("sends If-Match with the ETag GetObject returned, and a 412 answers false", async () => {
    s3.on(GetObjectCommand).resolves({ Body: bodyOf(Buffer.from("v1")) as never, ETag: '"e1"' });
    s3.on(PutObjectCommand).rejectsOnce(failure("PreconditionFailed", 412)).resolves({});
    const versioned = await store().getVersioned(KEY);
    expect(versioned?.etag).toBe('"e1"');
    expect(Buffer.from(versioned?.body ?? []).toString()).toBe("v1");
    expect(await store().put(KEY, "v2", { ifMatch: '"e1"' })).toBe(false);
    expect(await store().put(KEY, "v2", { ifMatch: '"e1"' })).toBe(true);
    const puts = s3.commandCalls(PutObjectCommand);
    expect(puts.map((c) => c.args[0].input.IfMatch)).toEqual(['"e1"', '"e1"']);
    expect(puts[0]?.args[0].input.IfNoneMatch).toBeUndefined();
  });

  it("answers false for If-Match on a key that is gone (404), and retries a 409", async () => {
    s3.on(PutObjectCommand)
      .rejectsOnce(failure("NoSuchKey", 404))
      .rejectsOnce(failure("ConditionalRequestConflict", 409))
      .resolves({});
    expect(await store().put(KEY, "v2", { ifMatch: '"e1"' })).toBe(false);
    expect(await store().put(KEY, "v2", { ifMatch: '"e1"' })).toBe(true);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(3);
  });

  it("deletes conditionally: If-Match sent, 412 and 404 answer false, 409 is retried", async () => {
    s3.on(DeleteObjectCommand)
      .rejectsOnce(failure("PreconditionFailed", 412))
      .rejectsOnce(failure("NoSuchKey", 404))
      .rejectsOnce(failure("ConditionalRequestConflict", 409))
      .resolves({});
    expect(await store().delete(KEY, { ifMatch: '"e1"' })).toBe(false);
    expect(await store().delete(KEY, { ifMatch: '"e1"' })).toBe(false);
    expect(await store().delete(KEY, { ifMatch: '"e1"' })).toBe(true);
    const deletes = s3.commandCalls(DeleteObjectCommand);
    expect(deletes.map((c) => c.args[0].input.IfMatch)).toEqual(['"e1"', '"e1"', '"e1"', '"e1"']);
  });

  it("gives up after repeated 409s with an error naming the object", async () => {
    s3.on(DeleteObjectCommand).rejects(failure("ConditionalRequestConflict", 409));
    await expect(store().delete(KEY, { ifMatch: '"e1"' })).rejects.toThrow(
      /DeleteObject s3:\/\/b\/state\/leases\/analyze\.json failed: ConditionalRequestConflict/,
    );
  });

  it("keeps a plain delete unconditional, and a 412 on a plain put an error", async () => {
    s3.on(DeleteObjectCommand).resolves({});
    s3.on(PutObjectCommand).rejects(failure("PreconditionFailed", 412));
    expect(await store().delete(KEY)).toBe(true);
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input.IfMatch).toBeUndefined();
    await expect(store().put(KEY, "x")).rejects.toThrow(/PreconditionFailed/);
  });
});

describe("acquireLease on S3 (conditional writes as AWS documents them)", () => {
  it("has 0 double holders in 200 trials of 8 contenders breaking an expired lease, 409s included", async () => {
    const bucket = conditionalBucket();
    const doubles: number[] = [];
    for (let trial = 0; trial < 200; trial++) {
      const key = `state/leases/trial-${trial}.json`;
      await store().put(key, JSON.stringify({ holder: "dead run", expiresAt: "2026-12-08T02:00:00.000Z" }));
      bucket.state.conflicts = trial % 3;
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, i) => acquireLease(store(), key, `contender-${i}`, NOW, 60_000)),
      );
      const won = attempts.filter((a) => a.acquired).length;
      if (won !== 1) doubles.push(won);
    }
    expect(doubles).toEqual([]);
  });

  it("releases with a delete conditional on its own ETag: a late release leaves the new holder's lease", async () => {
    const bucket = conditionalBucket();
    const slow = await acquireLease(store(), KEY, "slow run", NOW, 1000);
    if (!slow.acquired) throw new Error("the first run should get the lease");
    const next = await acquireLease(store(), KEY, "next run", new Date(NOW.getTime() + 5000), 60_000);
    if (!next.acquired) throw new Error("an expired lease should be broken");
    expect(await slow.lease.release()).toBe(false);
    const stored = bucket.objects.get(KEY);
    expect(JSON.parse(Buffer.from(stored?.body ?? []).toString()).holder).toBe("next run");
    const deletes = s3.commandCalls(DeleteObjectCommand);
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.args[0].input.IfMatch).toMatch(/^"[0-9a-f]{32}"$/);
    expect(deletes[0]?.args[0].input.IfMatch).not.toBe(stored?.etag);
    expect(await next.lease.release()).toBe(true);
    expect(bucket.objects.has(KEY)).toBe(false);
  });
});
