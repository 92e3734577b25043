"""The resources a stack creates under fixed names (contracts/naming.py): a name taken fails `pulumi up`.

Pulumi gives most resources a random suffix, but these carry the exact name the stack's other parts
and the docs refer to, so one left behind by a lost or deleted stack makes the create call fail
(Firehose `ResourceInUseException`, Lambda `ResourceConflictException`, CloudWatch Logs
`ResourceAlreadyExistsException`, Glue `AlreadyExistsException`, Athena `InvalidRequestException`).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.naming import Names
from contracts.settings import StackSettings, project_name

LOG_GROUP = "log group"
STREAM = "Firehose stream"
FUNCTION = "Lambda function"
DATABASE = "Glue database"
WORKGROUP = "Athena workgroup"


@dataclass(frozen=True)
class Named:
    kind: str
    name: str


def fixed_names(settings: StackSettings, stack: str) -> tuple[Named, ...]:
    names = Names(project_name(), stack)
    wanted: list[Named] = []
    if settings.creates_log_group:
        # infra/source.py: the flow-log group the stack creates when it subscribes none.
        wanted.append(Named(LOG_GROUP, f"/vpc/flow-logs/{stack}"))
    if not settings.is_member:
        wanted += [
            Named(STREAM, names.delivery_stream), Named(FUNCTION, names.transform_function),
            Named(FUNCTION, names.notifier_function), Named(DATABASE, names.glue_database),
            Named(WORKGROUP, names.athena_workgroup),
        ]
    return tuple(wanted)
