/**
 * CDK feature flags this app relies on, passed to every App (the CLI's and the tests'), so a synth in a test
 * is the synth that deploys.
 */
export const FEATURE_FLAGS: Record<string, boolean> = {
  // Access logs delivered by bucket policy, not the legacy LogDeliveryWrite ACL (ACLs stay disabled).
  "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
  "@aws-cdk/aws-s3:createDefaultLoggingPolicy": true,
  "@aws-cdk/aws-iam:minimizePolicies": true,
  "@aws-cdk/aws-sns:restrictSqsDescryption": true,
};
