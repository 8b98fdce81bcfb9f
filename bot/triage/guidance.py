"""Symptom guidance content (`data/guidance/*.yml`): loading, checking and the triage rules.

Clinicians edit the YAML files; this module refuses a file that breaks the schema
(see `data/guidance/README.md`) with the file and field named, and refuses any
content where a "yes" to a red-flag question could end below `urgent`: that is
checked over every combination of answers when the content loads.

A topic file holds the clinical logic and the fi/sv/en texts; every other language
has its texts for all topics in one file, `languages/<code>.yml`, so the clinician
who reviews that language reads one file and records the review in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.settings import DEFAULT_LANGUAGE, NATIVE_LANGUAGES, PROJECT_ROOT
from bot.text import fold, words

GUIDANCE_DIR = PROJECT_ROOT / "data" / "guidance"
LANGUAGES_DIR = "languages"
#: Every native language has every text of every topic.
TEXT_LANGUAGES = NATIVE_LANGUAGES
#: Fields of a topic that are texts per language (questions' texts come by question id).
_TEXT_FIELDS = ("title", "keywords", "advice", "seek_care_if")
#: The headings of the reviewers' export, per language (`document:` in languages/*.yml).
DOCUMENT_HEADINGS = ("title", "questions", "rules", "advice", "seek_care", "source",
                     "red_flag", "otherwise", "age_step", "duration_step")
#: Most urgent first (SPEC).
LEVELS = ("emergency", "urgent", "same_day", "routine", "self_care")
SAFE_FOR_RED_FLAGS = frozenset({"emergency", "urgent"})
AGE_GROUPS = ("baby", "child", "adult")
DURATIONS = ("under_day", "days_1_3", "days_4_7", "over_week")
YES, NO = "yes", "no"
AGE, DURATION = "age", "duration"


def text_language(language: str | None) -> str:
    """The language to take a topic's texts in: the resident's where the content has it
    (every native language), else English, which translation starts from."""
    return language if language in TEXT_LANGUAGES else DEFAULT_LANGUAGE


class GuidanceError(ValueError):
    """Content that breaks the schema: the message names the file and the field."""


@dataclass(frozen=True)
class Question:
    id: str
    text: Mapping[str, str]
    red_flag: bool


@dataclass(frozen=True)
class Rule:
    """All conditions must hold; each maps a step to the answers that satisfy it."""

    conditions: Mapping[str, frozenset[str]]
    level: str

    def holds(self, answers: Mapping[str, str]) -> bool:
        return all(answers.get(step) in allowed for step, allowed in self.conditions.items())


@dataclass(frozen=True)
class Topic:
    id: str
    title: Mapping[str, str]
    source_name: str
    source_url: str
    keywords: Mapping[str, tuple[tuple[str, ...], ...]]
    ask_age: bool
    ask_duration: bool
    age_groups: tuple[str, ...]
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    advice: Mapping[str, str]
    seek_care_if: Mapping[str, str]

    @property
    def steps(self) -> tuple[str, ...]:
        """Age first (it changes what matters), then the questions, duration last."""
        return ((AGE,) if self.ask_age else ()) + tuple(q.id for q in self.questions) + (
            (DURATION,) if self.ask_duration else ())

    def question(self, step: str) -> Question | None:
        return next((q for q in self.questions if q.id == step), None)

    def red_flag_raised(self, answers: Mapping[str, str]) -> bool:
        return any(q.red_flag and answers.get(q.id) == YES for q in self.questions)

    def next_step(self, answers: Mapping[str, str]) -> str | None:
        """The next thing to ask, or None when the level is decided: every step answered,
        or a red-flag question answered "yes" (no one waits through more questions)."""
        if self.red_flag_raised(answers):
            return None
        return next((step for step in self.steps if step not in answers), None)

    def level(self, answers: Mapping[str, str]) -> str:
        """The first rule that holds; the last rule has no conditions, so one always does."""
        return next(rule.level for rule in self.rules if rule.holds(answers))

    def reachable_levels(self) -> set[str]:
        return {self.level(answers) for answers in self.completed_answer_sets()}

    def completed_answer_sets(self) -> Iterable[dict[str, str]]:
        """Every way a resident can finish this topic, stopping at a red-flag "yes"."""
        options = {AGE: AGE_GROUPS, DURATION: DURATIONS}

        def walk(answers: dict[str, str]) -> Iterable[dict[str, str]]:
            step = self.next_step(answers)
            if step is None:
                yield answers
                return
            for value in options.get(step, (YES, NO)):
                yield from walk({**answers, step: value})

        return walk({})


@dataclass(frozen=True)
class LanguagePack:
    """One language's file: its review status, export headings and (for languages not
    written inline in the topic files) the texts of every topic."""

    code: str
    review: str
    document: Mapping[str, str]
    topics: Mapping[str, Mapping[str, Any]]

    @classmethod
    def load(cls, path: Path) -> LanguagePack:
        reader = _Reader(path)
        data = _read_yaml(path)
        code = reader.get(data, "language")
        if code != path.stem:
            raise reader.fail("language", f"must equal the file name {path.stem!r}")
        document = reader.get(data, "document")
        missing = [key for key in DOCUMENT_HEADINGS
                   if not isinstance(document, Mapping) or not document.get(key)]
        if missing:
            raise reader.fail("document", f"missing {', '.join(missing)}")
        topics = data.get("topics") or {}
        if not isinstance(topics, Mapping):
            raise reader.fail("topics", "expected a mapping of topic ids")
        return cls(code, str(reader.get(data, "review")).strip(),
                   {key: str(document[key]) for key in DOCUMENT_HEADINGS}, topics)


def load_languages(directory: Path = GUIDANCE_DIR) -> dict[str, LanguagePack]:
    """Every native language's pack, by code; a missing one is an error, not a gap."""
    packs = {path.stem: LanguagePack.load(path)
             for path in sorted((directory / LANGUAGES_DIR).glob("*.yml"))}
    missing = [code for code in TEXT_LANGUAGES if code not in packs]
    if missing:
        raise GuidanceError(f"{LANGUAGES_DIR}/: no file for {', '.join(missing)}")
    return packs


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GuidanceError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise _Reader(path).fail("(file)", "expected a mapping of fields")
    return data


def _with_pack_texts(data: Mapping[str, Any], topic_id: str,
                     packs: Mapping[str, LanguagePack]) -> dict[str, Any]:
    """The topic's fields with each language pack's texts added where the topic file
    has none; a text written in both places is an error (which one would count?)."""
    merged: dict[str, Any] = {key: (dict(value) if isinstance(value, Mapping) else value)
                              for key, value in data.items()}
    questions = [dict(q) if isinstance(q, Mapping) else q for q in data.get("questions") or []]
    merged["questions"] = questions
    for code, pack in packs.items():
        texts = pack.topics.get(topic_id)
        if texts is None:
            continue
        where = f"{LANGUAGES_DIR}/{code}.yml: topics.{topic_id}"
        for field in _TEXT_FIELDS:
            target = merged.setdefault(field, {})
            if isinstance(target, dict) and field in texts:
                if code in target:
                    raise GuidanceError(f"{where}.{field}: also written in the topic file")
                target[code] = texts[field]
        pack_questions = dict(texts.get("questions") or {})
        for question in questions:
            if isinstance(question, dict) and question.get("id") in pack_questions:
                question["text"] = {**(question.get("text") or {}),
                                    code: pack_questions.pop(question["id"])}
        if pack_questions:
            raise GuidanceError(f"{where}.questions: no question has id "
                                f"{', '.join(map(str, pack_questions))}")
    return merged


class _Reader:
    """Field access that names the file and field in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field: str, reason: str) -> GuidanceError:
        return GuidanceError(f"{self.path.name}: {field}: {reason}")

    def get(self, data: Mapping[str, Any], field: str, where: str = "") -> Any:
        name = f"{where}.{field}" if where else field
        if field not in data or data[field] in (None, ""):
            raise self.fail(name, "missing")
        return data[field]

    def texts(self, data: Mapping[str, Any], field: str, where: str = "") -> dict[str, str]:
        name = f"{where}.{field}" if where else field
        value = self.get(data, field, where)
        if not isinstance(value, Mapping):
            raise self.fail(name, f"needs a text for each of {', '.join(TEXT_LANGUAGES)}")
        texts = {}
        for language in TEXT_LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{name}.{language}", "missing or empty")
            texts[language] = text.strip()
        return texts

    def entries(self, data: Mapping[str, Any], field: str) -> list[tuple[str, Mapping]]:
        """A non-empty list of mappings, each with its name for errors ("rules[2]")."""
        value = self.get(data, field)
        if not isinstance(value, list) or not value or not all(
            isinstance(item, Mapping) for item in value
        ):
            raise self.fail(field, f"needs a list of {field}")
        return [(f"{field}[{index}]", item) for index, item in enumerate(value, start=1)]

    def flag(self, data: Mapping[str, Any], field: str, default: bool = False) -> bool:
        value = data.get(field, default)
        if not isinstance(value, bool):
            raise self.fail(field, f"must be true or false, got {value!r}")
        return value


def _keywords(reader: _Reader, data: Mapping[str, Any]) -> dict[str, tuple[tuple[str, ...], ...]]:
    value = reader.get(data, "keywords")
    keywords = {}
    for language in TEXT_LANGUAGES:
        entries = value.get(language) if isinstance(value, Mapping) else None
        if not entries or not all(isinstance(entry, str) and entry.strip() for entry in entries):
            raise reader.fail(f"keywords.{language}", "needs a list of words")
        keywords[language] = tuple(tuple(words(fold(entry))) for entry in entries)
    return keywords


def _rules(reader: _Reader, data: Mapping[str, Any], topic_steps: set[str],
           ask_age: bool, ask_duration: bool) -> tuple[Rule, ...]:
    raw_rules = reader.entries(data, "rules")
    rules = []
    for index, (where, raw) in enumerate(raw_rules, start=1):
        level = reader.get(raw, "level", where)
        if level not in LEVELS:
            raise reader.fail(f"{where}.level", f"{level!r} is not one of {', '.join(LEVELS)}")
        conditions: dict[str, frozenset[str]] = {}
        for step, wanted in (raw.get("if") or {}).items():
            values = [wanted] if not isinstance(wanted, list) else wanted
            values = [YES if v is True else NO if v is False else str(v) for v in values]
            allowed = {AGE: AGE_GROUPS, DURATION: DURATIONS}.get(step, (YES, NO))
            if step == AGE and not ask_age or step == DURATION and not ask_duration:
                raise reader.fail(f"{where}.if.{step}", f"the topic does not ask the {step}")
            if step not in (AGE, DURATION) and step not in topic_steps:
                raise reader.fail(f"{where}.if.{step}", "no question has this id")
            bad = [v for v in values if v not in allowed]
            if bad:
                raise reader.fail(f"{where}.if.{step}", f"{bad} not in {', '.join(allowed)}")
            conditions[step] = frozenset(values)
        is_last = index == len(raw_rules)
        if is_last and conditions:
            raise reader.fail(where, "the last rule must have no `if`, so every case gets a level")
        if not is_last and not conditions:
            raise reader.fail(where, "only the last rule may have no `if`")
        rules.append(Rule(conditions, level))
    return tuple(rules)


def load_topic(path: Path, packs: Mapping[str, LanguagePack] | None = None) -> Topic:
    """One topic file with its texts from the language packs, checked field by field
    and for red-flag safety."""
    reader = _Reader(path)
    if packs is None:
        packs = load_languages(path.parent)
    data = _with_pack_texts(_read_yaml(path), path.stem, packs)
    if reader.get(data, "id") != path.stem:
        raise reader.fail("id", f"must equal the file name {path.stem!r}")
    title = reader.texts(data, "title")
    source = reader.get(data, "source")
    questions: list[Question] = []
    for where, raw in reader.entries(data, "questions"):
        question_id = reader.get(raw, "id", where)
        if question_id in (AGE, DURATION) or question_id in {q.id for q in questions}:
            raise reader.fail(f"{where}.id", f"{question_id!r} is reserved or used twice")
        red_flag = raw.get("red_flag", False)
        if not isinstance(red_flag, bool):
            raise reader.fail(f"{where}.red_flag", "must be true or false")
        questions.append(Question(question_id, reader.texts(raw, "text", where), red_flag))
    ask_age, ask_duration = reader.flag(data, "ask_age"), reader.flag(data, "ask_duration")
    age_groups = tuple(data.get("age_groups") or AGE_GROUPS)
    if any(group not in AGE_GROUPS for group in age_groups):
        raise reader.fail("age_groups", f"use only {', '.join(AGE_GROUPS)}")
    topic = Topic(
        id=path.stem,
        title=title,
        source_name=str(reader.get(source, "name", "source")),
        source_url=str(reader.get(source, "url", "source")),
        keywords=_keywords(reader, data),
        ask_age=ask_age,
        ask_duration=ask_duration,
        age_groups=age_groups,
        questions=tuple(questions),
        rules=_rules(reader, data, {q.id for q in questions}, ask_age, ask_duration),
        advice=reader.texts(data, "advice"),
        seek_care_if=reader.texts(data, "seek_care_if"),
    )
    _check_red_flags(reader, topic)
    return topic


def _check_red_flags(reader: _Reader, topic: Topic) -> None:
    """No way through the questions may turn a red-flag "yes" into a calm level."""
    for answers in topic.completed_answer_sets():
        if topic.red_flag_raised(answers) and topic.level(answers) not in SAFE_FOR_RED_FLAGS:
            raise reader.fail("rules", f"answers {answers} raise a red flag but end at "
                              f"{topic.level(answers)!r}; red flags need emergency or urgent")


def load_guidance(directory: Path = GUIDANCE_DIR) -> dict[str, Topic]:
    """Every topic, by id; the first bad file stops the load with its name and field."""
    packs = load_languages(directory)
    topics = {path.stem: load_topic(path, packs) for path in sorted(directory.glob("*.yml"))}
    for code, pack in packs.items():
        unknown = sorted(set(pack.topics) - set(topics))
        if unknown:
            raise GuidanceError(f"{LANGUAGES_DIR}/{code}.yml: topics: no topic file for "
                                f"{', '.join(unknown)}")
    return topics


@cache
def default_guidance() -> dict[str, Topic]:
    return load_guidance()


def match_topics(topics: Mapping[str, Topic], text: str) -> list[str]:
    """Topics whose keywords the message contains, the most specific first: a keyword of
    several words ("lapsi kuume") beats one word ("kuume"). Every word of a keyword
    must start one word of the message, so inflected forms match ("kuumetta")."""
    message = words(fold(text))
    scores: dict[str, int] = {}
    for topic in topics.values():
        for entries in topic.keywords.values():
            for entry in entries:
                if all(any(word.startswith(part) for word in message) for part in entry):
                    scores[topic.id] = max(scores.get(topic.id, 0), len(entry))
    if not scores:
        return []
    best = max(scores.values())
    return sorted(topic for topic, score in scores.items() if score == best)
