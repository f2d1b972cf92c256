import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { IamRequest } from "./iam-requests.ts";

/*
 * The synthesized template's policies, made concrete and evaluated offline. CloudFormation intrinsics (Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub, pseudo parameters) are resolved to the ARNs the resources would have in one
 * fixed account; then each recorded request is evaluated with @cloud-copilot/iam-simulate as AWS would:
 * the calling role's identity policies, plus the resource's own policy where it has one (the bucket policy for
 * S3, the key policy for KMS, the topic policy for SNS). This is the check s3rver and the other fakes cannot
 * make: they have no IAM.
 */

export interface TemplateJson {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

export interface Account {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

type Json = unknown;

export class ResolvedTemplate {
  readonly resources: TemplateJson["Resources"];

  /** `overrides`: the value of Ref for chosen logical ids (e.g. the data bucket → the local bucket's name). */
  constructor(
    template: TemplateJson,
    readonly where: Account,
    private readonly overrides: Readonly<Record<string, string>> = {},
  ) {
    this.resources = template.Resources;
  }

  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value as Record<string, Json>);
    const [first] = entries;
    if (entries.length === 1 && first) {
      const [fn, arg] = first;
      if (fn === "Ref") return this.ref(String(arg));
      if (fn === "Fn::GetAtt") {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(".");
        return this.attribute(String(id), String(attr));
      }
      if (fn === "Fn::Join") {
        const [sep, parts] = arg as [string, Json[]];
        return (this.resolve(parts) as Json[]).map(String).join(sep);
      }
      if (fn === "Fn::Sub") {
        const [text, vars] = typeof arg === "string" ? [arg, {}] : (arg as [string, Record<string, Json>]);
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name in vars) return String(this.resolve(vars[name]));
          const [id, attr] = name.split(".");
          return String(attr ? this.attribute(id ?? "", attr) : this.ref(name));
        });
      }
      if (fn === "Fn::Select") {
        const [index, list] = arg as [number, Json];
        return (this.resolve(list) as Json[])[Number(index)];
      }
      if (fn === "Fn::Split") {
        const [sep, text] = arg as [string, Json];
        return String(this.resolve(text)).split(sep);
      }
      if (fn.startsWith("Fn::")) throw new Error(`intrinsic ${fn} is not resolved by stack-policies.ts`);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  ref(id: string): string {
    const { partition, region, account } = this.where;
    const pseudo: Record<string, string> = {
      "AWS::Partition": partition,
      "AWS::Region": region,
      "AWS::AccountId": account,
      "AWS::URLSuffix": partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com",
      "AWS::StackName": "Stack",
    };
    if (id in pseudo) return pseudo[id] as string;
    const override = this.overrides[id];
    if (override !== undefined) return override;
    const r = this.resource(id);
    const props = r.Properties ?? {};
    switch (r.Type) {
      case "AWS::S3::Bucket":
        return (props.BucketName as string | undefined) ?? id.toLowerCase();
      case "AWS::SecretsManager::Secret":
        return `arn:${partition}:secretsmanager:${region}:${account}:secret:${String(props.Name ?? id)}-AbCdEf`;
      case "AWS::SNS::Topic":
        return `arn:${partition}:sns:${region}:${account}:${String(props.TopicName ?? id)}`;
      case "AWS::KMS::Key":
        return `1234abcd-12ab-34cd-56ef-${id.slice(-12).toLowerCase().padStart(12, "0")}`;
      case "AWS::SQS::Queue":
        return `https://sqs.${region}.amazonaws.com/${account}/${id}`;
      default:
        return id;
    }
  }

  attribute(id: string, attr: string): string {
    const { partition, region, account } = this.where;
    const r = this.resource(id);
    if (attr === "Arn") {
      switch (r.Type) {
        case "AWS::S3::Bucket":
          return `arn:${partition}:s3:::${this.ref(id)}`;
        case "AWS::KMS::Key":
          return `arn:${partition}:kms:${region}:${account}:key/${this.ref(id)}`;
        case "AWS::IAM::Role":
          return `arn:${partition}:iam::${account}:role/${id}`;
        case "AWS::SQS::Queue":
          return `arn:${partition}:sqs:${region}:${account}:${id}`;
        case "AWS::Lambda::Function":
          return `arn:${partition}:lambda:${region}:${account}:function:${id}`;
        case "AWS::Logs::LogGroup":
          return `arn:${partition}:logs:${region}:${account}:log-group:${id}:*`;
        case "AWS::SecretsManager::Secret":
          return this.ref(id);
      }
    }
    if (r.Type === "AWS::SNS::Topic" && attr === "TopicArn") return this.ref(id);
    return `${id}.${attr}`;
  }

  resource(id: string): { Type: string; Properties?: Record<string, unknown> } {
    const r = this.resources[id];
    if (!r) throw new Error(`no resource ${id} in the template`);
    return r;
  }

  /** Logical ids of resources of one type. */
  idsOf(type: string): string[] {
    return Object.entries(this.resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
  }

  /** Every identity policy attached to a role: inline, AWS::IAM::Policy and managed policies refused loudly. */
  identityPoliciesOf(roleId: string): { name: string; policy: Json }[] {
    const role = this.resource(roleId);
    if (((role.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? []).length > 0)
      throw new Error(`${roleId} has managed policies: the evaluation needs their documents`);
    const inline = ((role.Properties?.Policies as { PolicyName: string; PolicyDocument: Json }[]) ?? []).map(
      (p) => ({ name: p.PolicyName, policy: this.resolve(p.PolicyDocument) }),
    );
    const attached = this.idsOf("AWS::IAM::Policy").flatMap((id) => {
      const props = this.resource(id).Properties ?? {};
      const roles = (props.Roles as Json[] | undefined) ?? [];
      return roles.some((r) => (r as { Ref?: string }).Ref === roleId)
        ? [{ name: id, policy: this.resolve(props.PolicyDocument) }]
        : [];
    });
    return [...inline, ...attached];
  }

  /** The role a function runs with. */
  roleOfFunction(functionId: string): string {
    const role = this.resource(functionId).Properties?.Role as
      | { "Fn::GetAtt"?: [string, string] }
      | undefined;
    const id = role?.["Fn::GetAtt"]?.[0];
    if (!id) throw new Error(`${functionId}: its role is not a role of this template`);
    return id;
  }

  /** The resource policy that applies to a request's resource, if the template defines one. */
  resourcePolicyFor(request: IamRequest): Json | undefined {
    const [service] = request.action.split(":");
    if (service === "s3") {
      const bucket = /^arn:[^:]+:s3:::([^/]+)/.exec(request.resource)?.[1];
      for (const id of this.idsOf("AWS::S3::BucketPolicy")) {
        const props = this.resource(id).Properties ?? {};
        if (this.resolve(props.Bucket) === bucket) return this.resolve(props.PolicyDocument);
      }
      return undefined;
    }
    if (service === "kms") {
      for (const id of this.idsOf("AWS::KMS::Key"))
        if (this.attribute(id, "Arn") === request.resource)
          return this.resolve(this.resource(id).Properties?.KeyPolicy);
      return undefined;
    }
    if (service === "sns") {
      const statements: Json[] = [];
      for (const id of this.idsOf("AWS::SNS::TopicPolicy")) {
        const props = this.resource(id).Properties ?? {};
        const topics = this.resolve(props.Topics) as string[];
        if (topics.includes(request.resource)) {
          const doc = this.resolve(props.PolicyDocument) as { Statement: Json[] };
          statements.push(...doc.Statement);
        }
      }
      return statements.length > 0 ? { Version: "2012-10-17", Statement: statements } : undefined;
    }
    return undefined;
  }

  /** What SNS asks of KMS, in the caller's name, to publish to a topic encrypted with a customer key. */
  impliedRequests(request: IamRequest): IamRequest[] {
    if (request.action !== "sns:Publish") return [];
    for (const id of this.idsOf("AWS::SNS::Topic")) {
      if (this.ref(id) !== request.resource) continue;
      const keyRef = this.resource(id).Properties?.KmsMasterKeyId;
      if (keyRef === undefined) return [];
      const resolved = String(this.resolve(keyRef));
      const keyArn = resolved.startsWith("arn:")
        ? resolved
        : `arn:${this.where.partition}:kms:${this.where.region}:${this.where.account}:key/${resolved}`;
      const context = {
        "kms:ViaService": `sns.${this.where.region}.amazonaws.com`,
        "kms:CallerAccount": this.where.account,
      };
      return ["kms:GenerateDataKey", "kms:Decrypt"].map((action) => ({
        ...request,
        action,
        resource: keyArn,
        context,
        call: `${request.call} (SNS encrypts with the topic's key)`,
      }));
    }
    return [];
  }
}

export interface Decision {
  readonly request: IamRequest;
  readonly role: string;
  readonly result: "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "Error";
  readonly detail: string;
}

/** Evaluates a request as made by the role, against its identity policies and the resource's policy. */
export async function evaluate(
  template: ResolvedTemplate,
  roleId: string,
  request: IamRequest,
): Promise<Decision> {
  const { account } = template.where;
  const principal = template.attribute(roleId, "Arn");
  const resourcePolicy = template.resourcePolicyFor(request);
  const response = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: {
          resource: request.resource,
          accountId:
            request.resource === "*" || request.action.startsWith("s3:")
              ? account
              : accountOf(request.resource, account),
        },
        contextVariables: {
          "aws:SecureTransport": "true",
          "aws:PrincipalArn": principal,
          "aws:PrincipalAccount": account,
          ...request.context,
        },
      },
      identityPolicies: template.identityPoliciesOf(roleId),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy !== undefined ? { resourcePolicy } : {}),
    },
    {},
  );
  if (response.resultType === "error")
    return { request, role: roleId, result: "Error", detail: JSON.stringify(response.errors) };
  return { request, role: roleId, result: response.overallResult as Decision["result"], detail: "" };
}

function accountOf(arn: string, fallback: string): string {
  return arn.split(":")[4] || fallback;
}
