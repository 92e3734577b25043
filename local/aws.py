"""moto as a server on 127.0.0.1 (S3, Secrets Manager), and the resources the stack would create in it."""

from __future__ import annotations

import logging
import os
import urllib.request
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
# Fake credentials: boto3 signs every request, moto accepts anything.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
}


class LocalAws:
    """A moto server on a free loopback port; `client(name)` talks to it."""

    def __init__(self, region: str = REGION):
        self.region = region
        # moto's request handler logs every request through werkzeug's logger; the demo's output is ours.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        # moto keeps its state per process, not per server: a new stand-in starts from an empty account.
        reset = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()

    def client(self, service: str) -> Any:
        return boto3.client(
            service, endpoint_url=self.url, region_name=self.region,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
        )

    def environment(self) -> dict[str, str]:
        """What points boto3 (in the handlers) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            **CREDENTIALS,
        }

    def create_bucket(self, name: str) -> None:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        # Public access blocked as in the stack; moto stores the setting, which is what a reader checks.
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        })

    def create_secret(self, name: str, value: str) -> str:
        """The Datadog API key secret, as the stack stores it (the bare key). Returns its ARN."""
        secrets = self.client("secretsmanager")
        try:
            return secrets.create_secret(Name=name, SecretString=value)["ARN"]
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=name, SecretString=value)
            return secrets.describe_secret(SecretId=name)["ARN"]

    def stop(self) -> None:
        self._server.stop()


def without_profile() -> dict[str, str | None]:
    """A user's AWS_PROFILE would make boto3 read their config; the local run must not."""
    return {"AWS_PROFILE": None} if "AWS_PROFILE" in os.environ else {}
