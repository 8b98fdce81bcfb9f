"""What clinicians review: an overview table of the guidance and a readable export."""

from __future__ import annotations

from collections.abc import Mapping

from bot.triage.guidance import AGE, DURATION, LEVELS, Topic

_STEP_LABELS = {
    "fi": {AGE: "Ikäryhmä (vauva / lapsi / aikuinen)", DURATION: "Kesto"},
    "sv": {AGE: "Åldersgrupp (bebis / barn / vuxen)", DURATION: "Varaktighet"},
    "en": {AGE: "Age group (baby / child / adult)", DURATION: "Duration"},
}
_HEADINGS = {
    "fi": ("Kysymykset", "Säännöt (ensimmäinen täyttyvä ratkaisee)", "Kotihoito-ohje",
           "Milloin hakeutua hoitoon", "Lähde", "punainen lippu", "muuten"),
    "sv": ("Frågor", "Regler (den första som gäller avgör)", "Egenvård",
           "När söka vård", "Källa", "varningstecken", "annars"),
    "en": ("Questions", "Rules (the first that holds decides)", "Self-care advice",
           "When to seek care", "Source", "red flag", "otherwise"),
}


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


def export_markdown(topics: Mapping[str, Topic], language: str) -> str:
    """The whole content in one language, in the order a resident meets it."""
    questions_h, rules_h, advice_h, seek_h, source_h, red_flag, otherwise = _HEADINGS[language]
    out = [f"# {_title(language)}", ""]
    for topic in topics.values():
        out += [f"## {topic.title[language]} (`{topic.id}`)", "", f"### {questions_h}", ""]
        for number, step in enumerate(topic.steps, start=1):
            question = topic.question(step)
            if question is None:
                out.append(f"{number}. {_STEP_LABELS[language][step]}")
            else:
                flag = f" **({red_flag})**" if question.red_flag else ""
                out.append(f"{number}. {question.text[language]}{flag} `{step}`")
        out += ["", f"### {rules_h}", ""]
        for rule in topic.rules:
            condition = " & ".join(
                f"{step} = {'/'.join(sorted(values))}" for step, values in rule.conditions.items()
            ) or otherwise
            out.append(f"- {condition} → **{rule.level}**")
        out += ["", f"### {advice_h}", "", topic.advice[language], "",
                f"### {seek_h}", "", topic.seek_care_if[language], "",
                f"{source_h}: [{topic.source_name}]({topic.source_url})", ""]
    return "\n".join(out)


def _title(language: str) -> str:
    return {"fi": "Oireohjeet tarkastettavaksi", "sv": "Symtområd för granskning",
            "en": "Symptom guidance for review"}[language]
