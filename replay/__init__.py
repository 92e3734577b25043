"""Replay: put the records Firehose could not process (kept under `errors/`) back into the stream.

`python -m replay --bucket B --stream S [--prefix errors/processing-failed/] [--dry-run]`. The pure
parts (reading error objects, planning PutRecordBatch calls, the summary) are in `records`, `plan` and
`summary`; `aws` talks to S3 and Firehose, `run` ties them together and `__main__` is the command line.
"""
