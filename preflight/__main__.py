"""`python -m preflight (--stack NAME | --config FILE [--stack NAME])`: read-only checks before `pulumi up`.

docs/architecture.md, Preflight.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError

from contracts.settings import SettingsError
from preflight.aws import Account
from preflight.config import ConfigFileError, StackConfig, read_config_json, read_stack_file
from preflight.model import EXIT_USAGE, exit_code, summary
from preflight.run import run_checks

DESCRIPTION = """\
Read-only checks of the AWS account and a stack's settings before `pulumi up`: one line per check,
`ok`, `warn` or `FAIL`, each warn and FAIL saying what to do. Nothing is created or changed.

Settings: Pulumi.<stack>.yaml over Pulumi.yaml's defaults (--stack), or the JSON that
`pulumi config --json` prints (--config; add --stack to recognise the stack's own resources).
AWS: boto3's credential chain (aws:profile when set), the region from aws:region or boto3's;
AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are honoured. Datadog: DD_API_KEY (and DD_APP_KEY)
when set, against datadogSite or DD_API_URL.
"""
EPILOG = "exit status: 0 nothing failed, 1 a check failed, 2 usage or settings error"


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m preflight", description=DESCRIPTION, epilog=EPILOG,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parse.add_argument("--stack", metavar="NAME", help="the stack: reads Pulumi.NAME.yaml (without --config)")
    parse.add_argument("--config", metavar="FILE", type=Path, help="the output of `pulumi config --json`")
    return parse


def load(args: argparse.Namespace) -> StackConfig:
    if args.config is not None:
        return read_config_json(args.config, args.stack)
    return read_stack_file(args.stack)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.stack is None and args.config is None:
        parser().print_usage(sys.stderr)
        print("python -m preflight: give --stack NAME or --config FILE (e.g. `make preflight STACK=dev`)",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load(args)
    except (ConfigFileError, SettingsError) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        region = config.region or boto3.Session(profile_name=config.profile).region_name
        if not region:
            print("preflight: no AWS region: `pulumi config set aws:region <region>` (or AWS_REGION)",
                  file=sys.stderr)
            return EXIT_USAGE
        account = Account(region, config.profile)
    except BotoCoreError as error:  # ProfileNotFound, a shared config file that does not parse, ...
        print(f"preflight: {error}: fix aws:profile or AWS_PROFILE (`aws configure list-profiles`) and the "
              "AWS config files", file=sys.stderr)
        return EXIT_USAGE
    findings = []
    for finding in run_checks(config, account, os.environ):
        print(finding.line(), flush=True)
        findings.append(finding)
    print(summary(findings))
    return exit_code(findings)


if __name__ == "__main__":
    sys.exit(main())
