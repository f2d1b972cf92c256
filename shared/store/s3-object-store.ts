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
import type { ObjectInfo, ObjectStore, PutOptions } from "./object-store.ts";

export interface S3ObjectStoreOptions {
  readonly bucket: string;
  /** Puts every key under `prefix/`, so one bucket can hold several deployments. */
  readonly prefix?: string;
  readonly client?: S3Client;
  /**
   * How `put(..., {ifAbsent})` is made conditional. "native" sends `If-None-Match: *` (S3 since 2024, most
   * S3-compatible stores). "check-then-put" does a HeadObject first: racy (two writers can both see the key
   * missing and both write), so only for backends without conditional writes, such as s3rver in tests.
   */
  readonly conditionalPut?: "native" | "check-then-put";
}

/** S3 answers 409 while another conditional write of the same key is in flight; AWS says retry. */
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
    if (ifAbsent && this.conditionalPut === "check-then-put") {
      if (await this.exists(objectKey)) return false;
    }
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: objectKey,
      Body: body,
      ContentType: options.contentType,
      IfNoneMatch: ifAbsent && this.conditionalPut === "native" ? "*" : undefined,
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(command);
        return true;
      } catch (e) {
        if (ifAbsent && isStatus(e, 412, "PreconditionFailed")) return false;
        if (
          ifAbsent &&
          isStatus(e, 409, "ConditionalRequestConflict") &&
          attempt < CONDITIONAL_CONFLICT_ATTEMPTS
        ) {
          continue;
        }
        throw this.error("PutObject", objectKey, e);
      }
    }
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

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
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
        yield { key: object.Key.slice(this.keyPrefix.length), size: object.Size ?? 0 };
      }
      continuationToken = response.IsTruncated ? response.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      // S3 answers 204 for a missing key too.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (e) {
      if (errorName(e) === "NoSuchKey") return;
      throw this.error("DeleteObject", objectKey, e);
    }
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return `${this.keyPrefix}${key}`;
  }

  private async exists(objectKey: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return true;
    } catch (e) {
      if (isStatus(e, 404, "NotFound")) return false;
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
