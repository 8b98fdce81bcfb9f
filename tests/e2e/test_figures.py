"""The figures the foundation promises, measured on held-out data through the
running server (the same numbers `make eval` prints)."""

from __future__ import annotations

import json

import pytest

from bot.evaluation import evaluate, http_parser
from tests.conftest import ROOT
from tests.e2e.conftest import API_TOKEN, Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def figures(server: Server) -> dict:
    result = evaluate(ROOT, http_parser(server.url, API_TOKEN))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_intent_accuracy_on_held_out_examples(figures: dict, language: str) -> None:
    row = figures["intent_accuracy"][language]
    assert row["accuracy"] >= 0.92, row
    assert row["emergency_on_ordinary_messages"] < 0.1, row


def test_language_id_on_short_messages(figures: dict) -> None:
    langid = figures["language_id"]
    assert langid["n"] >= 200
    assert langid["accuracy_without_context"] >= 0.90, langid
    assert langid["accuracy_with_context"] >= 0.97, langid
    assert langid["plain_langdetect_accuracy"] < langid["accuracy_without_context"]


def test_red_flag_recall_and_false_alarms(figures: dict) -> None:
    for language, row in figures["red_flags"].items():
        assert row["recall"] == 1.0, (language, row)
        assert row["ordinary_alarm_rate"] < 0.1, (language, row)


def test_clinic_reference_resolution(figures: dict) -> None:
    references = figures["clinic_references"]
    assert references["n"] >= 40
    assert references["accuracy"] >= 0.95, references["misses"]
