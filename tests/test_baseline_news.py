"""What an event says about the baseline (notifier/baseline/news.py): title lead, tags, alert type."""

from __future__ import annotations

import pytest

from notifier.baseline import news
from notifier.baseline.keys import INTERNAL, SOURCE, TARGET, Key, Sighting
from notifier.baseline.verdicts import KNOWN, NEW, Assessment, KeyVerdict
from tests.notifier_support import HOUR_START

PAIR = Key(INTERNAL, "10.0.0.5", "10.0.1.9", 5432, 6)
PORT = Key(TARGET, None, "eni-0a1b2c3d4e5f60718", 3389, 6)
SCANNER = Key(SOURCE, "203.0.113.9", None, None, None)


def assessment(*verdicts: tuple[Key, str], state: str = "active") -> Assessment:
    return Assessment(state, tuple(KeyVerdict(Sighting(k, 2, HOUR_START), v, HOUR_START - 86_400)
                                   for k, v in verdicts))


@pytest.mark.parametrize(("verdicts", "lead", "alert"), [
    (((PAIR, NEW), (PORT, NEW), (SCANNER, NEW)), "1 new internal reject", "warning"),
    (((PAIR, KNOWN), (PORT, NEW), (SCANNER, NEW)), "1 new target port, 1 new source", "info"),
    (((PAIR, KNOWN), (PORT, KNOWN), (SCANNER, NEW)), "1 new source", "info"),
    (((PAIR, KNOWN), (PORT, KNOWN), (SCANNER, KNOWN)), None, "info"),
])
def test_news_title_lead_and_alert_type(verdicts, lead, alert):
    said = assessment(*verdicts)
    assert news.title_lead(said) == lead
    assert news.alert_type(said, has_internal_sources=True) == alert


def test_news_tags_per_state():
    assert news.tags(assessment((PAIR, NEW), (SCANNER, KNOWN))) == [
        "new_internal:true", "new_targets:false", "new_sources:false", "baseline:active"]
    down = Assessment("unavailable", error="DynamoDB BatchGetItem failed: ThrottlingException")
    assert news.tags(down) == ["baseline:unavailable"]


def test_news_unavailable_keeps_today_s_alert_rule():
    down = Assessment("unavailable", error="x")
    assert news.alert_type(down, has_internal_sources=True) == "warning"
    assert news.alert_type(down, has_internal_sources=False) == "info"


def test_news_marks_known_with_first_seen_and_replies_apart_from_ports():
    reply = Key(TARGET, None, "eni-0a1b2c3d4e5f60718", 443, 6, reply=True)
    marks = news.Marks(assessment((PAIR, KNOWN), (PORT, NEW), (reply, NEW)))
    assert marks.source("10.0.0.5") == " · known since 2026-11-26 18:00 UTC"
    assert marks.port(3389, 6) == " · **new**"
    assert marks.port(443, 6) == ""  # a reply from 443 is not a rejected destination port 443
    assert news.key_text(reply) == "target `eni-0a1b2c3d4e5f60718` `replies from 443/tcp`"
