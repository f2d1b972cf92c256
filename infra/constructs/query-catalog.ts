import { Aws } from "aws-cdk-lib";
import * as athena from "aws-cdk-lib/aws-athena";
import * as glue from "aws-cdk-lib/aws-glue";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { SourceSchema } from "../../shared/domain/events/normalized-event.ts";

const JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe";

export interface QueryCatalogProps {
  readonly bucket: s3.IBucket;
  readonly bytesScannedCutoffMb: number;
}

/**
 * Athena over the bucket: a Glue database with the events and incidents tables (partition projection, so no
 * crawler and no MSCK REPAIR), a workgroup that caps bytes scanned and keeps results encrypted in the
 * bucket, and the named queries an ops engineer starts from.
 */
export class QueryCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly workGroup: athena.CfnWorkGroup;
  readonly databaseName = "bounce_radar";

  constructor(scope: Construct, id: string, props: QueryCatalogProps) {
    super(scope, id);
    const { bucket } = props;
    this.database = new glue.CfnDatabase(this, "Database", {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: "bounce-radar events and incidents" },
    });
    const table = (
      tid: string,
      name: string,
      prefix: string,
      columns: glue.CfnTable.ColumnProperty[],
      partitions: Record<string, Record<string, string>>,
    ) => {
      const t = new glue.CfnTable(this, tid, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.databaseName,
        tableInput: {
          name,
          tableType: "EXTERNAL_TABLE",
          partitionKeys: Object.keys(partitions).map((p) => ({ name: p, type: "string" })),
          parameters: {
            classification: "json",
            "projection.enabled": "true",
            ...Object.fromEntries(
              Object.entries(partitions).flatMap(([p, spec]) =>
                Object.entries(spec).map(([k, v]) => [`projection.${p}.${k}`, v]),
              ),
            ),
            "storage.location.template": `s3://${bucket.bucketName}/${prefix}${Object.keys(partitions)
              .map((p) => `${p}=\${${p}}`)
              .join("/")}/`,
          },
          storageDescriptor: {
            location: `s3://${bucket.bucketName}/${prefix}`,
            inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
            outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            serdeInfo: {
              serializationLibrary: JSON_SERDE,
              parameters: { "case.insensitive": "true", "ignore.malformed.json": "true" },
            },
            columns,
          },
        },
      });
      t.addResourceDependency(this.database);
      return t;
    };
    const dt = {
      type: "date",
      format: "yyyy-MM-dd",
      range: "2020-01-01,NOW",
      interval: "1",
      "interval.unit": "DAYS",
    };
    // The event's own `source` field is the partition column.
    table(
      "EventsTable",
      "events",
      "events/",
      [
        { name: "id", type: "string" },
        { name: "occurredat", type: "string", comment: "ISO 8601 instant (UTC)" },
        { name: "type", type: "string" },
        { name: "recipient", type: "string", comment: "full address: mask before sharing results" },
        { name: "recipientdomain", type: "string" },
        { name: "organisation", type: "string" },
        { name: "consumer", type: "boolean" },
        { name: "smtp", type: "struct<code:int,enhanced:string,text:string>" },
        { name: "espclass", type: "string" },
        { name: "mxhost", type: "string" },
        { name: "sendingip", type: "string" },
        { name: "ippool", type: "string" },
        { name: "messageid", type: "string" },
        { name: "campaign", type: "string" },
        {
          name: "classification",
          type: "struct<category:string,side:string,falsehardbounce:boolean,gateway:string,confidence:double,rule:string>",
        },
      ],
      { source: { type: "enum", values: SourceSchema.options.join(",") }, dt },
    );
    table(
      "IncidentsTable",
      "incidents",
      "reports/incidents/",
      [
        { name: "runid", type: "string" },
        { name: "windowend", type: "string" },
        { name: "id", type: "string" },
        { name: "verdict", type: "string" },
        { name: "side", type: "string" },
        { name: "confidence", type: "double" },
        { name: "alert", type: "boolean" },
        { name: "firstseen", type: "string" },
        { name: "domains", type: "array<string>" },
        { name: "gateways", type: "array<string>" },
        { name: "sendingips", type: "array<string>" },
        { name: "attempts", type: "bigint" },
        { name: "hardbounces", type: "bigint" },
        { name: "rate", type: "double" },
        { name: "baselinerate", type: "double" },
      ],
      { dt },
    );

    this.workGroup = new athena.CfnWorkGroup(this, "WorkGroup", {
      name: "bounce-radar",
      description: "bounce-radar queries: results in the data bucket, bytes scanned capped",
      recursiveDeleteOption: true,
      state: "ENABLED",
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffMb * 1024 * 1024,
        resultConfiguration: {
          outputLocation: `s3://${bucket.bucketName}/athena-results/`,
          encryptionConfiguration: { encryptionOption: "SSE_S3" },
        },
      },
    });

    const named = (qid: string, name: string, description: string, queryString: string) => {
      const q = new athena.CfnNamedQuery(this, qid, {
        name,
        description,
        database: this.databaseName,
        workGroup: this.workGroup.name,
        queryString,
      });
      q.addResourceDependency(this.workGroup);
      q.addResourceDependency(this.database);
    };
    named(
      "RateByOrganisationAndDay",
      "bounce-radar: hard-bounce rate by organisation and day",
      "Attempts, hard bounces and rate per recipient organisation per day over the last 14 days",
      `SELECT dt, organisation,
       count_if(type IN ('delivered', 'bounced')) AS attempts,
       count_if(type = 'bounced' AND espclass = 'hard') AS hard_bounces,
       round(100.0 * count_if(type = 'bounced' AND espclass = 'hard') / nullif(count_if(type IN ('delivered', 'bounced')), 0), 2) AS hard_bounce_pct
FROM events
WHERE dt >= date_format(current_date - interval '14' day, '%Y-%m-%d')
GROUP BY dt, organisation
HAVING count_if(type = 'bounced' AND espclass = 'hard') > 0
ORDER BY dt DESC, hard_bounces DESC
LIMIT 500;`,
    );
    named(
      "TopRejectionTexts",
      "bounce-radar: top rejection texts for one organisation",
      "Most frequent rejection texts for one organisation over the last 7 days (replace example.com)",
      `SELECT smtp.text AS rejection, classification.category AS category, classification.gateway AS gateway,
       count(*) AS bounces, min(occurredat) AS first_seen, max(occurredat) AS last_seen
FROM events
WHERE dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
  AND organisation = 'example.com'
  AND type = 'bounced'
GROUP BY 1, 2, 3
ORDER BY bounces DESC
LIMIT 50;`,
    );
    named(
      "IncidentsOverTime",
      "bounce-radar: incidents over time",
      "Incidents per day and verdict over the last 90 days, with how many alerted",
      `SELECT dt, verdict, side, count(DISTINCT id) AS incidents, count_if(alert) AS alerting_runs,
       max(hardbounces) AS max_hard_bounces, array_join(array_distinct(flatten(array_agg(gateways))), ', ') AS gateways
FROM incidents
WHERE dt >= date_format(current_date - interval '90' day, '%Y-%m-%d')
GROUP BY dt, verdict, side
ORDER BY dt DESC, incidents DESC;`,
    );
  }
}
