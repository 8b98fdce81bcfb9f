"""`make eval`: the figures the foundation is judged by, as one JSON object.

* intent accuracy per native language on held-out examples
  (`tests/data/nlu_heldout/`, never part of the training data);
* language ID on short messages (`tests/data/langid_dev.yml`), without and
  with conversation context, beside plain langdetect on the same messages;
* red-flag recall per language and false alarms on near misses and ordinary
  messages (`tests/data/redflags.yml`);
* clinic reference resolution on the project's list of inflected and misspelt
  references (`tests/data/clinic_references.yml`);
* triage safety on resident stories (`tests/data/triage_stories.yml`): how often
  the level is lower than the safe level (must be never) or higher (over-triage).
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.clinics.directory import DIRECTORY_CSV, preview_units, read_csv
from bot.clinics.references import REFERENCES_PATH, Resolution
from bot.clinics.service import Directory, read_references
from bot.language.choice import LanguageState, choose, turn_from_parse
from bot.language.identify import default_identifier
from bot.settings import NATIVE_LANGUAGES
from bot.triage.guidance import LEVELS, load_guidance
from bot.triage.redflags import default_detector
from bot.triage.session import replay

Parser = Callable[[str], dict[str, Any]]


def http_parser(base_url: str, token: str) -> Parser:
    """Parse through a running server's `/model/parse`, with the API token."""
    endpoint = base_url.rstrip("/") + "/model/parse?" + urllib.parse.urlencode({"token": token})

    def parse(text: str) -> dict[str, Any]:
        request = urllib.request.Request(
            endpoint,
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    return parse


def local_parser(model: Path) -> Parser:
    """Parse with the trained model loaded in this process."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # keep stdout for the JSON result

    loop = asyncio.new_event_loop()
    agent = Agent.load(str(model))
    return lambda text: loop.run_until_complete(agent.parse_message(text))


def heldout_examples(home: Path, language: str) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(home / "tests" / "data" / "nlu_heldout" / f"{language}.yml"))
    return [(ex.get("text"), ex.get("intent")) for ex in data.intent_examples]


def intent_figures(home: Path, parse: Parser) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for language in NATIVE_LANGUAGES:
        examples = heldout_examples(home, language)
        errors: Counter[str] = Counter()
        correct = alarms = ordinary = 0
        for text, expected in examples:
            predicted = parse(text)["intent"]["name"]
            if predicted == expected:
                correct += 1
            else:
                errors[f"{expected}->{predicted}"] += 1
            if expected != "emergency":
                ordinary += 1
                alarms += predicted == "emergency"
        figures[language] = {
            "accuracy": round(correct / len(examples), 3),
            "n": len(examples),
            "emergency_on_ordinary_messages": round(alarms / ordinary, 3),
            "top_confusions": dict(errors.most_common(5)),
        }
    return figures


def langid_figures(home: Path) -> dict[str, Any]:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    rows = yaml.safe_load((home / "tests" / "data" / "langid_dev.yml").read_text("utf-8"))
    identifier = default_identifier()
    alone = with_context = plain = 0
    per_language: dict[str, Counter[str]] = {}
    for row in rows:
        text, truth = row["text"], row["lang"]
        detection = identifier.identify(text)
        alone += detection.code == truth
        turn = turn_from_parse({"text": text, "language": detection.as_dict()})
        in_context = choose(LanguageState(row["context"]), turn).code == truth
        with_context += in_context
        counts = per_language.setdefault(truth, Counter())
        counts.update(n=1, alone=detection.code == truth, context=in_context)
        try:
            plain += detect(text).split("-")[0] == truth
        except LangDetectException:
            pass
    n = len(rows)
    return {
        "n": n,
        "accuracy_without_context": round(alone / n, 3),
        "accuracy_with_context": round(with_context / n, 3),
        "plain_langdetect_accuracy": round(plain / n, 3),
        "by_language": {
            code: {"n": c["n"], "without_context": round(c["alone"] / c["n"], 3),
                   "with_context": round(c["context"] / c["n"], 3)}
            for code, c in per_language.items()
        },
    }


def redflag_figures(home: Path) -> dict[str, Any]:
    data = yaml.safe_load((home / "tests" / "data" / "redflags.yml").read_text("utf-8"))
    detector = default_detector()
    figures: dict[str, Any] = {}
    for language, block in data.items():
        hits = sum(detector.detect(row["text"]) is not None for row in block["red_flags"])
        near = sum(detector.detect(text) is not None for text in block["near_misses"])
        ordinary = sum(detector.detect(text) is not None for text in block["ordinary"])
        figures[language] = {
            "recall": round(hits / len(block["red_flags"]), 3),
            "near_miss_alarm_rate": round(near / len(block["near_misses"]), 3),
            "ordinary_alarm_rate": round(ordinary / len(block["ordinary"]), 3),
        }
    return figures


Resolve = Callable[[str, str], Resolution]


def csv_resolver(home: Path) -> Resolve:
    """The resolver over the project's CSV, as `healthbot run` would load it."""
    units = preview_units(read_csv(home / DIRECTORY_CSV))
    return Directory.build(units, read_references(home / REFERENCES_PATH)).resolve


def reference_figures(home: Path, resolve: Resolve) -> dict[str, Any]:
    """A reference counts when the expected unit comes first with the expected certainty
    (`named`, or `choices` for a typo, which is offered rather than answered)."""
    data = yaml.safe_load((home / "tests" / "data" / "clinic_references.yml").read_text("utf-8"))
    misses = []
    for item in data["references"]:
        resolution = resolve(item["text"], item["lang"])
        expected = item.get("certainty", "named")
        if resolution.units[:1] != (item["unit"],) or resolution.certainty.value != expected:
            misses.append({"text": item["text"], "expected": item["unit"],
                           "got": list(resolution.units), "certainty": resolution.certainty.value})
    n = len(data["references"])
    return {"n": n, "accuracy": round(1 - len(misses) / n, 3), "misses": misses}


def triage_figures(home: Path) -> dict[str, Any]:
    """Stories replayed through the triage steps the form uses (`bot.triage.session`)."""
    topics = load_guidance(home / "data" / "guidance")
    data = yaml.safe_load((home / "tests" / "data" / "triage_stories.yml").read_text("utf-8"))
    under, over, unresolved = [], [], []
    for story in data["stories"]:
        topic, level = replay(topics, story["message"], story["replies"])
        if level is None:
            unresolved.append({"message": story["message"], "topic": topic})
            continue
        got, safe = LEVELS.index(level), LEVELS.index(story["safe"])
        if got > safe:
            under.append({"message": story["message"], "level": level, "safe": story["safe"]})
        elif got < safe:
            over.append({"message": story["message"], "level": level, "safe": story["safe"]})
    n = len(data["stories"])
    return {"n": n, "under_triage": under, "over_triage_rate": round(len(over) / n, 3),
            "over_triage": over, "unresolved": unresolved}


def evaluate(home: Path, parse: Parser) -> dict[str, Any]:
    return {
        "intent_accuracy": intent_figures(home, parse),
        "language_id": langid_figures(home),
        "red_flags": redflag_figures(home),
        "clinic_references": reference_figures(home, csv_resolver(home)),
        "triage": triage_figures(home),
    }
