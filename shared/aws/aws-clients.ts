import { S3Client } from "@aws-sdk/client-s3";
import { s3ClientForEndpoint } from "../store/s3-object-store.ts";

/**
 * The S3 client a function uses. `AWS_ENDPOINT_URL_S3` (the SDK's own endpoint variable) points it at an
 * S3-compatible server, which serves buckets by path rather than by host name.
 */
export function s3ClientFromEnvironment(region: string, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3;
  return endpoint ? s3ClientForEndpoint(endpoint, region) : new S3Client({ region });
}

/** The S3 console page of one object. */
export function s3ConsoleUrl(region: string, bucket: string, key: string): string {
  return `https://${region}.console.aws.amazon.com/s3/object/${bucket}?region=${region}&prefix=${encodeURIComponent(key)}`;
}
