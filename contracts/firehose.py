"""Amazon Data Firehose facts that the transform, replay, the stack and the local stand-in share.

Sources (checked 2026-11): Firehose API reference, PutRecordBatch ("up to 500 records ... up to 4 MiB
per call ... each record up to 1,000 KiB"); Firehose developer guide, "Transform source data"
(processor parameters, their defaults and ranges; the Lambda response limit of 6 MB).
"""

from __future__ import annotations

# PutRecordBatch: at most 500 records and 4 MiB per call, each record at most 1,000 KiB.
PUT_BATCH_MAX_RECORDS = 500
PUT_BATCH_MAX_BYTES = 4 * 1024 * 1024
PUT_RECORD_MAX_BYTES = 1000 * 1024

# Lambda's synchronous response payload is at most 6 MB; AWS's blueprint keeps under 6,000,000 bytes.
LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
RESPONSE_LIMIT_BYTES = 6_000_000

# Processor parameters: Firehose's own defaults. The stack sends only values that differ from these
# (a parameter equal to its default is not stored, so sending it makes every `pulumi up` an update).
PROCESSOR_RETRIES = 3
PROCESSOR_BUFFER_MB_DEFAULT = 1.0
PROCESSOR_BUFFER_SECONDS_DEFAULT = 60
PROCESSOR_BUFFER_MB_RANGE = (0.2, 3.0)

# What Firehose writes to the error prefix for a record the processor returned as ProcessingFailed.
PROCESSING_FAILED = "processing-failed"
PROCESSING_FAILED_CODE = "Lambda.ProcessingFailedStatus"
