"""The IAM actions `pulumi up` calls to create a stack of these settings (for the policy simulation).

One create-or-configure action per kind of resource the components declare (infra/); reading and
deleting are left out. Resources: `*` (the simulation then judges identity policies only).
"""

from __future__ import annotations

from contracts.settings import StackSettings

# The roles of the functions, the stream, the flow logs and the subscription: create, give, pass.
ROLES = ("iam:CreateRole", "iam:PutRolePolicy", "iam:TagRole", "iam:PassRole")
LOG_GROUP = ("logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:TagResource")
FLOW_LOGS = ("ec2:CreateFlowLogs", "ec2:CreateTags")
SUBSCRIPTION = ("logs:PutSubscriptionFilter",)
ARCHIVE = (
    "s3:CreateBucket", "s3:PutBucketTagging", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration",
    "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls",
    "s3:PutBucketNotification",
)
DELIVERY = ("firehose:CreateDeliveryStream", "firehose:TagDeliveryStream")
FUNCTIONS = ("lambda:CreateFunction", "lambda:TagResource", "lambda:AddPermission",
             "lambda:PutFunctionEventInvokeConfig")
NOTIFIER = ("sqs:CreateQueue", "sqs:TagQueue", "secretsmanager:CreateSecret", "secretsmanager:PutSecretValue",
            "secretsmanager:TagResource")
ANALYTICS = ("glue:CreateDatabase", "glue:CreateTable", "athena:CreateWorkGroup", "athena:CreateNamedQuery",
             "athena:TagResource")
ALARMS = ("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource")
TOPIC = ("sns:CreateTopic", "sns:SetTopicAttributes", "sns:TagResource")
DESTINATIONS = ("logs:PutDestination", "logs:PutDestinationPolicy")
# Flow logs straight into Firehose (CloudWatch Logs user guide, "Logs sent to Firehose", checked 2026-12):
# logs:CreateLogDelivery and firehose:TagDeliveryStream, and iam:CreateServiceLinkedRole the first time.
VENDED_DELIVERY = ("logs:CreateLogDelivery",)


def required_actions(settings: StackSettings) -> tuple[str, ...]:
    actions: list[str] = [*ROLES]
    if settings.creates_log_group:
        actions += LOG_GROUP
    if settings.flow_logs.vpc_ids:
        actions += FLOW_LOGS
    if settings.flow_logs.existing_log_group or settings.creates_log_group:
        actions += SUBSCRIPTION
    if not settings.is_member:
        actions += ARCHIVE + DELIVERY + FUNCTIONS + NOTIFIER + ANALYTICS + ALARMS
        actions += LOG_GROUP  # the functions' and the stream's own log groups
        if settings.alarms.topic_arn is None:
            actions += TOPIC
        if settings.alarms.email:
            actions.append("sns:Subscribe")
        if settings.collection.has_destinations:
            actions += DESTINATIONS
        if settings.collection.flow_logs_to_firehose:
            actions += VENDED_DELIVERY
    return tuple(dict.fromkeys(actions))
