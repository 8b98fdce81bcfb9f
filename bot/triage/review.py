"""What clinicians review: an overview table of the guidance and a readable export."""

from __future__ import annotations

from collections.abc import Mapping

from bot.triage.guidance import AGE, DURATION, LEVELS, LanguagePack, Topic


def report(topics: Mapping[str, Topic]) -> str:
    """One line per topic: its levels, questions (red flags marked) and source."""
    header = f"{'topic':<20} {'levels reachable':<44} {'questions':<10} {'red flags':<9} source"
    lines = [header, "-" * len(header)]
    for topic in topics.values():
        reachable = topic.reachable_levels()
        levels = ",".join(level for level in LEVELS if level in reachable)
        red_flags = sum(q.red_flag for q in topic.questions)
        lines.append(f"{topic.id:<20} {levels:<44} {len(topic.steps):<10} {red_flags:<9} "
                     f"{topic.source_url}")
    lines.append(f"{len(topics)} topics")
    return "\n".join(lines)


def export_markdown(topics: Mapping[str, Topic], pack: LanguagePack) -> str:
    """The whole content in one language, in the order a resident meets it, headed by
    the language's review status."""
    heading = pack.document
    language = pack.code
    step_labels = {AGE: heading["age_step"], DURATION: heading["duration_step"]}
    out = [f"# {heading['title']}", "", f"review: {pack.review}", ""]
    for topic in topics.values():
        out += [f"## {topic.title[language]} (`{topic.id}`)", "",
                f"### {heading['questions']}", ""]
        for number, step in enumerate(topic.steps, start=1):
            question = topic.question(step)
            if question is None:
                out.append(f"{number}. {step_labels[step]}")
            else:
                flag = f" **({heading['red_flag']})**" if question.red_flag else ""
                out.append(f"{number}. {question.text[language]}{flag} `{step}`")
        out += ["", f"### {heading['rules']}", ""]
        for rule in topic.rules:
            condition = " & ".join(
                f"{step} = {'/'.join(sorted(values))}" for step, values in rule.conditions.items()
            ) or heading["otherwise"]
            out.append(f"- {condition} → **{rule.level}**")
        out += ["", f"### {heading['advice']}", "", topic.advice[language], "",
                f"### {heading['seek_care']}", "", topic.seek_care_if[language], "",
                f"{heading['source']}: [{topic.source_name}]({topic.source_url})", ""]
    return "\n".join(out)
