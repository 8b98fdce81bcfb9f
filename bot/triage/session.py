"""One triage conversation step by step, without Rasa: the triage form uses it turn by
turn, and the evaluation replays resident stories through the very same steps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.triage.guidance import AGE, DURATION, Topic, match_topics
from bot.triage.replies import ReplyReader, default_reader


def record_answer(topic: Topic, answers: Mapping[str, str], text: str,
                  intent: str | None = None, reader: ReplyReader | None = None,
                  ) -> dict[str, str] | None:
    """The answers with this reply recorded for the step being asked, or None when the
    reply answers nothing (the question is then asked again)."""
    reader = reader or default_reader()
    step = topic.next_step(answers)
    if step is None:
        return dict(answers)
    value = (reader.age_group(text) if step == AGE else
             reader.duration(text) if step == DURATION else
             reader.yes_no(text, intent))
    return None if value is None else {**answers, step: value}


def replay(topics: Mapping[str, Topic], message: str, replies: Iterable[str]) -> tuple[
    str | None, str | None
]:
    """(topic, level) for a resident who opens with `message` and answers each question
    with the next reply; a reply that answers nothing is skipped, as a re-asked question
    would be. (None, None) when the message does not pick exactly one topic."""
    matches = match_topics(topics, message)
    if len(matches) != 1:
        return None, None
    topic = topics[matches[0]]
    answers: dict[str, str] = {}
    for reply in replies:
        if topic.next_step(answers) is None:
            break
        answers = record_answer(topic, answers, reply) or answers
    if topic.next_step(answers) is not None:
        return topic.id, None
    return topic.id, topic.level(answers)
