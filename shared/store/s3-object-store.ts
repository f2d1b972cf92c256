import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assertValidKey, assertValidPrefix } from "./key-syntax.ts";
import type {
  DeleteOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  VersionedObject,
} from "./object-store.ts";

export interface S3ObjectStoreOptions {
  readonly bucket: string;
  /** Puts every key under `prefix/`, so one bucket can hold several deployments. */
  readonly prefix?: string;
  readonly client?: S3Client;
  /**
   * How conditional writes are made. "native" sends `If-None-Match: *` (ifAbsent) and `If-Match: <etag>`
   * (ifMatch, on PutObject and DeleteObject: S3 since 2024 and 2025, most S3-compatible stores).
   * "check-then-put" does a HeadObject first: racy (two writers can both see the key missing or unchanged and
   * both write), so only for backends without conditional writes, such as s3rver in tests.
   */
  readonly conditionalPut?: "native" | "check-then-put";
}

/**
 * S3 answers 409 while another conditional write or delete of the same key is in flight; AWS says retry
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). A retried If-Match then
 * answers 412 if the other write changed the object.
 */
const CONDITIONAL_CONFLICT_ATTEMPTS = 3;

/** The bucket (optionally a prefix of it) as an ObjectStore. */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  private readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly client: S3Client;
  private readonly conditionalPut: "native" | "check-then-put";

  constructor(options: S3ObjectStoreOptions) {
    if (options.bucket === "") throw new Error("S3ObjectStore: bucket is empty");
    const prefix = (options.prefix ?? "").replace(/\/+$/, "");
    if (prefix !== "") assertValidKey(prefix);
    this.bucket = options.bucket;
    this.keyPrefix = prefix === "" ? "" : `${prefix}/`;
    this.client = options.client ?? new S3Client({});
    this.conditionalPut = options.conditionalPut ?? "native";
    this.location = prefix === "" ? `s3://${options.bucket}` : `s3://${options.bucket}/${prefix}`;
  }

  async get(key: string): Promise<Uint8Array | null> {
    const objectKey = this.objectKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      if (!response.Body) return new Uint8Array();
      return await response.Body.transformToByteArray();
    } catch (e) {
      if (errorName(e) === "NoSuchKey") return null;
      throw this.error("GetObject", objectKey, e);
    }
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    const objectKey = this.objectKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      if (response.ETag === undefined) throw new Error("the response has no ETag");
      const body = response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
      return { body, etag: response.ETag };
    } catch (e) {
      if (errorName(e) === "NoSuchKey") return null;
      throw this.error("GetObject", objectKey, e);
    }
  }

  async getStream(key: string): Promise<Readable | null> {
    const objectKey = this.objectKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      if (!response.Body) return Readable.from([]);
      // In Node the SDK's body is an http IncomingMessage, i.e. a Readable.
      if (!(response.Body instanceof Readable)) {
        throw new Error("the response body is not a Node.js Readable");
      }
      return response.Body;
    } catch (e) {
      if (errorName(e) === "NoSuchKey") return null;
      throw this.error("GetObject", objectKey, e);
    }
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<boolean> {
    const objectKey = this.objectKey(key);
    const ifAbsent = options.ifAbsent === true;
    const ifMatch = options.ifMatch;
    if (ifAbsent && ifMatch !== undefined) throw new Error("put: ifAbsent and ifMatch exclude each other");
    const conditional = ifAbsent || ifMatch !== undefined;
    const native = this.conditionalPut === "native";
    if (!native) {
      if (ifAbsent && (await this.etagOf(objectKey)) !== null) return false;
      if (ifMatch !== undefined && (await this.etagOf(objectKey)) !== ifMatch) return false;
    }
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: objectKey,
      Body: body,
      ContentType: options.contentType,
      IfNoneMatch: ifAbsent && native ? "*" : undefined,
      IfMatch: native ? ifMatch : undefined,
    });
    return this.sendConditional("PutObject", objectKey, conditional, async () => {
      await this.client.send(command);
    });
  }

  async putStream(
    key: string,
    body: Readable,
    options: { readonly contentType?: string } = {},
  ): Promise<void> {
    const objectKey = this.objectKey(key);
    // lib-storage reports a failed AbortMultipartUpload in place of the original error, so keep the body's.
    let bodyError: unknown;
    body.on("error", (e: unknown) => {
      bodyError ??= e;
    });
    // Multipart in 5 MiB parts, at most queueSize parts in memory; a failed upload is aborted (and never
    // completed), so no partial object is ever visible.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: body, ContentType: options.contentType },
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      // Unblock whoever is still writing into the body (it would otherwise wait on backpressure forever).
      body.destroy();
      throw this.error("Upload", objectKey, bodyError ?? e);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    const listPrefix = `${this.keyPrefix}${prefix}`;
    let continuationToken: string | undefined;
    do {
      let response: ListObjectsV2CommandOutput;
      try {
        response = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: listPrefix,
            ContinuationToken: continuationToken,
          }),
        );
      } catch (e) {
        throw this.error("ListObjectsV2", `${listPrefix}*`, e);
      }
      for (const object of response.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key.slice(this.keyPrefix.length),
          size: object.Size ?? 0,
          ...(options.etags && object.ETag ? { etag: object.ETag } : {}),
        };
      }
      continuationToken = response.IsTruncated ? response.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    const objectKey = this.objectKey(key);
    const ifMatch = options.ifMatch;
    const native = this.conditionalPut === "native";
    if (ifMatch !== undefined && !native && (await this.etagOf(objectKey)) !== ifMatch) return false;
    // S3 answers 204 for a missing key too (404 only with If-Match).
    const command = new DeleteObjectCommand({
      Bucket: this.bucket,
      Key: objectKey,
      IfMatch: native ? ifMatch : undefined,
    });
    return this.sendConditional("DeleteObject", objectKey, ifMatch !== undefined, async () => {
      await this.client.send(command);
    });
  }

  /**
   * Sends a write; when it was conditional, 412 (another version) and 404 (no object, for If-Match) answer
   * false and a 409 conflict is retried.
   */
  private async sendConditional(
    operation: string,
    objectKey: string,
    conditional: boolean,
    send: () => Promise<void>,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await send();
        return true;
      } catch (e) {
        if (!conditional && operation === "DeleteObject" && errorName(e) === "NoSuchKey") return true;
        if (conditional && isStatus(e, 412, "PreconditionFailed")) return false;
        if (conditional && isStatus(e, 404, "NoSuchKey")) return false;
        if (
          conditional &&
          isStatus(e, 409, "ConditionalRequestConflict") &&
          attempt < CONDITIONAL_CONFLICT_ATTEMPTS
        ) {
          continue;
        }
        throw this.error(operation, objectKey, e);
      }
    }
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return `${this.keyPrefix}${key}`;
  }

  /** The key's ETag, or null when there is no such key (check-then-put only). */
  private async etagOf(objectKey: string): Promise<string | null> {
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return response.ETag ?? "";
    } catch (e) {
      if (isStatus(e, 404, "NotFound")) return null;
      throw this.error("HeadObject", objectKey, e);
    }
  }

  private error(operation: string, objectKey: string, e: unknown): Error {
    const name = errorName(e);
    const message = e instanceof Error ? e.message : String(e);
    const detail = name && name !== "Error" && !message.startsWith(name) ? `${name}: ${message}` : message;
    return new Error(`S3 ${operation} s3://${this.bucket}/${objectKey} failed: ${detail}`, { cause: e });
  }
}

/**
 * An S3 client for an S3-compatible endpoint (MinIO, LocalStack, s3rver): path-style addressing, credentials
 * from the default provider chain unless `config` gives them. Checksums only where an operation requires
 * them: SDK v3 now adds CRC32 checksums with aws-chunked trailers to every upload by default, which many
 * S3-compatible servers (s3rver among them) cannot parse.
 */
export function s3ClientForEndpoint(
  endpoint: string,
  region = "us-east-1",
  config: Omit<S3ClientConfig, "endpoint" | "region"> = {},
): S3Client {
  return new S3Client({
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...config,
    endpoint,
    region,
  });
}

function errorName(e: unknown): string | undefined {
  return e instanceof Error ? e.name : undefined;
}

function isStatus(e: unknown, status: number, name: string): boolean {
  if (errorName(e) === name) return true;
  const metadata = typeof e === "object" && e !== null && "$metadata" in e ? e.$metadata : undefined;
  return (
    typeof metadata === "object" &&
    metadata !== null &&
    "httpStatusCode" in metadata &&
    metadata.httpStatusCode === status
  );
}
