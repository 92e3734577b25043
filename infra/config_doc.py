"""The table of stack config keys in docs/deploy.md, generated from Pulumi.yaml (checked by a test)."""

from __future__ import annotations

import json
from typing import Any

from contracts.settings import declared_config


def _default(spec: dict[str, Any]) -> str:
    if "default" not in spec:
        return "required"
    value = spec["default"]
    if value == "" or value == []:
        return "*(empty)*"
    return f"`{json.dumps(value) if isinstance(value, list) else value}`"


def config_table() -> str:
    """Markdown: key, type, default, description, in Pulumi.yaml's order."""
    rows = ["| Key | Type | Default | What it does |", "|-----|------|---------|--------------|"]
    for key, spec in declared_config().items():
        kind = spec["type"] + (" of " + spec["items"]["type"] if spec["type"] == "array" else "")
        if spec.get("secret"):
            kind += ", secret"
        description = " ".join(spec["description"].split()).replace("|", "\\|")
        description = description.replace("<", "&lt;").replace(">", "&gt;")
        rows.append(f"| `{key}` | {kind} | {_default(spec)} | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(config_table())
