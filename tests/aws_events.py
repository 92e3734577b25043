"""AWS's own sample events (tests/events/*.json), as the handler tests load them.

Each file is an event as AWS documents it (the source is named in the file's `_source` member where the
format allows one, else in tests/events/README.md); tests change only what their case needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """The sample event `tests/events/<name>.json`, a fresh copy each call."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    event.pop("_source", None)
    return event
