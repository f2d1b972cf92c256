import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import type { Config } from "../../shared/config.ts";

/**
 * The data bucket (raw, events, aggregates, state, reports: the same keys as a local --data folder) and the
 * bucket receiving its access logs. Private, encrypted, TLS only, versioned, with lifecycle by prefix.
 */
export class DataBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, retention: Config["retention"]) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: "expire-logs", expiration: Duration.days(retention.accessLogsExpireAfterDays) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: "AwsSolutions-S1",
      reason: "This is the access-log bucket itself; logging it into itself would loop.",
    });

    const expire = (id: string, prefix: string, days: number): s3.LifecycleRule => ({
      id,
      prefix,
      expiration: Duration.days(days),
    });
    this.bucket = new s3.Bucket(this, "Data", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: "data-bucket/",
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: "raw",
          prefix: "raw/",
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(retention.rawInfrequentAccessAfterDays),
            },
          ],
          expiration: Duration.days(retention.rawExpireAfterDays),
        },
        expire("events", "events/", retention.eventsExpireAfterDays),
        expire("reports", "reports/", retention.reportsExpireAfterDays),
        expire("quarantine", "quarantine/", retention.quarantineExpireAfterDays),
        expire("athena-results", "athena-results/", 30),
        {
          id: "old-versions",
          noncurrentVersionExpiration: Duration.days(retention.noncurrentVersionsExpireAfterDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
  }
}
