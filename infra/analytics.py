"""Athena over the archive: Glue table with partition projection, a workgroup, the named queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from contracts.flowlog import ALL_FIELDS, PROVENANCE_COLUMNS, athena_type, column_name
from contracts.layout import PARTITION_KEYS, PROJECTION_YEAR_RANGE, storage_location_template, table_location
from contracts.queries import NAMED_QUERIES

JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
# Projection ranges of the non-year keys: (range, digits) as Firehose writes them (`MM`, `dd`, `HH`).
PROJECTION_RANGES: dict[str, str] = {"month": "1,12", "day": "1,31", "hour": "0,23"}
MB = 1024 * 1024


@dataclass
class AnalyticsArgs:
    database_name: str
    table_name: str
    workgroup_name: str
    bucket_name: pulumi.Input[str]
    results_prefix: str
    scan_limit_mb: int
    tags: Mapping[str, str] = field(default_factory=dict)
    extra_fields: Sequence[str] = ()
    """Fields of the flow-log format that the catalogue does not know (`unknown_fields`): string columns."""


def columns(extra_fields: Sequence[str] = ()) -> list[aws.glue.CatalogTableStorageDescriptorColumnArgs]:
    """Every catalogued field (the archived record's names and types), the format's unknown fields as strings,
    then the provenance columns."""
    fields = [aws.glue.CatalogTableStorageDescriptorColumnArgs(name=column_name(f), type=athena_type(f))
              for f in (*ALL_FIELDS, *extra_fields)]
    provenance = [aws.glue.CatalogTableStorageDescriptorColumnArgs(name=c, type="string")
                  for c in PROVENANCE_COLUMNS]
    return fields + provenance


def table_parameters(bucket: str) -> dict[str, str]:
    """Partition projection: Athena computes the partitions, no crawler, no MSCK REPAIR."""
    low, high = PROJECTION_YEAR_RANGE
    parameters = {
        "EXTERNAL": "TRUE",
        "classification": "json",
        "compressionType": "gzip",
        "projection.enabled": "true",
        "projection.year.type": "integer",
        "projection.year.range": f"{low},{high}",
        "storage.location.template": storage_location_template(bucket),
    }
    for key, value_range in PROJECTION_RANGES.items():
        parameters[f"projection.{key}.type"] = "integer"
        parameters[f"projection.{key}.range"] = value_range
        parameters[f"projection.{key}.digits"] = "2"
    return parameters


class Analytics(pulumi.ComponentResource):
    def __init__(self, name: str, args: AnalyticsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:analytics:Analytics", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        bucket = pulumi.Output.from_input(args.bucket_name)

        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=args.database_name,
            description="Rejected VPC flows archived by rejected-flows",
            tags=tags,
            opts=child,
        )
        self.table = aws.glue.CatalogTable(
            f"{name}-table",
            name=args.table_name,
            database_name=self.database.name,
            table_type="EXTERNAL_TABLE",
            description="Rejected VPC flows, one JSON object per line, partitioned by hour (projection)",
            parameters=bucket.apply(table_parameters),
            partition_keys=[aws.glue.CatalogTablePartitionKeyArgs(name=key, type="int")
                            for key in PARTITION_KEYS],
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                location=bucket.apply(table_location),
                input_format=INPUT_FORMAT,
                output_format=OUTPUT_FORMAT,
                compressed=True,
                columns=columns(args.extra_fields),
                ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                    serialization_library=JSON_SERDE,
                    # A line that is not JSON reads as nulls instead of failing the whole query.
                    parameters={"ignore.malformed.json": "true"},
                ),
            ),
            opts=child,
        )
        self.workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=args.workgroup_name,
            description="Queries over the rejected-flows archive",
            configuration=aws.athena.WorkgroupConfigurationArgs(
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=args.scan_limit_mb * MB,
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=pulumi.Output.concat("s3://", bucket, "/", args.results_prefix),
                    encryption_configuration=aws.athena.
                    WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_S3",
                    ),
                ),
            ),
            # Named queries and query history go with the stack on destroy.
            force_destroy=True,
            tags=tags,
            opts=child,
        )
        self.qualified_table = pulumi.Output.concat(self.database.name, ".", self.table.name)
        self.named_queries = {
            query.name: aws.athena.NamedQuery(
                f"{name}-query-{query.name}",
                name=query.name,
                description=query.description,
                database=self.database.name,
                workgroup=self.workgroup.name,
                query=self.qualified_table.apply(query.sql),
                opts=child,
            )
            for query in NAMED_QUERIES
        }
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """This component's stack outputs (camelCase), registered with it and exported by the stack."""
        return {
            "glueDatabaseName": self.database.name,
            "glueTableName": self.table.name,
            "athenaWorkgroupName": self.workgroup.name,
            "athenaNamedQueryIds": {name: query.id for name, query in self.named_queries.items()},
        }
