import { Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";

/** The deployable monitor. Resources (bucket, scheduled Lambdas, topic, secrets) arrive with the deployment work. */
export class BounceRadarStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
  }
}
