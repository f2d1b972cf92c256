import { App } from "aws-cdk-lib";
import { BounceRadarStack } from "./bounce-radar-stack.ts";

const app = new App();
new BounceRadarStack(app, "BounceRadar", {
  description: "bounce-radar: hard-bounce spike monitor (ingest, analyse, alert)",
});
app.synth();
