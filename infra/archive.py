"""The archive bucket: private, encrypted, TLS-only, owner-enforced, with lifecycle per prefix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from contracts.layout import DATA_PREFIX, ERROR_PREFIX
from contracts.settings import Retention
from infra import policies

# Athena writes query results here, outside rejected/ (the table) and errors/ (the notifications).
ATHENA_RESULTS_PREFIX = "athena-results/"
# Query results are working files: a week is plenty to download them again.
ATHENA_RESULTS_EXPIRATION_DAYS = 7
# Multipart uploads Firehose abandons on failure still cost storage until aborted.
ABORT_MULTIPART_DAYS = 7


@dataclass
class ArchiveArgs:
    bucket_prefix: str
    """Names the bucket after the stack (S3 adds a random suffix: bucket names are global)."""
    retention: Retention
    """Its archive_* and error_* days shape the lifecycle rules (log_days is for log groups)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class Archive(pulumi.ComponentResource):
    """S3 bucket holding rejected/ (the archive), errors/ (Firehose failures) and Athena results."""

    bucket: aws.s3.Bucket

    def __init__(self, name: str, args: ArchiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:archive:Archive", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", bucket_prefix=args.bucket_prefix, tags=dict(args.tags), opts=child,
        )
        bucket_id = self.bucket.id

        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256",
                ),
                bucket_key_enabled=True,
            )],
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        # After the public access block, so S3 evaluates the policy against it (and never races it).
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=policies.document(policies.deny_insecure_transport(self.bucket.arn)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=lifecycle_rules(args),
            opts=child,
        )
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """This component's stack outputs (camelCase), registered with it and exported by the stack."""
        return {"bucketName": self.bucket.bucket}


def lifecycle_rules(args: ArchiveArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """One rule per prefix (only with an action), plus aborting incomplete multipart uploads."""
    retention = args.retention
    rules = []
    for rule_id, prefix, expiration in (
        ("archive", DATA_PREFIX, retention.archive_expiration_days),
        ("errors", ERROR_PREFIX, retention.error_expiration_days),
    ):
        transitions = [
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=retention.archive_transition_days,
                                                                  storage_class="STANDARD_IA")
        ] if retention.archive_transition_days else None
        if expiration and transitions and expiration <= retention.archive_transition_days:
            transitions = None  # objects expire first: a transition would only add its fee
        if not transitions and not expiration:
            continue
        rules.append(aws.s3.BucketLifecycleConfigurationRuleArgs(
            id=rule_id,
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix),
            transitions=transitions,
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expiration)
            if expiration else None,
        ))
    rules.append(aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="athena-results",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=ATHENA_RESULTS_PREFIX),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=ATHENA_RESULTS_EXPIRATION_DAYS),
    ))
    rules.append(aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="abort-incomplete-multipart-uploads",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=ABORT_MULTIPART_DAYS,
        ),
    ))
    return rules
