"""`healthbot validate`: Rasa's own data validation, strict, with one reasoned exception.

`rasa data validate --fail-on-warnings` calls every response that no story or rule
names unused. Responses that custom actions send with `dispatcher.utter_message(
response=...)` (the clinic answers, filled with directory data) are used all the
same; they are recognised by their name appearing in the Python code (`actions/`
and `bot/`). Every other validator warning fails the check, as with
`--fail-on-warnings`.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from bot.settings import PROJECT_ROOT

TRAINING_DATA = ("data/nlu", "data/rules.yml", "data/stories.yml")
_UNUSED_RESPONSE = re.compile(r"^The utterance '(?P<name>[^']+)' is not used in any story or rule")
_RESPONSE_NAME = re.compile(r"[\"'](utter_[a-z0-9_]+)[\"']")


CODE_DIRS = ("actions", "bot")


def responses_named_in_code(root: Path) -> set[str]:
    """Response names quoted in the Python code that custom actions run."""
    return {
        name
        for directory in CODE_DIRS
        for path in (root / directory).rglob("*.py")
        for name in _RESPONSE_NAME.findall(path.read_text(encoding="utf-8"))
    }


def _expected_by_rasa(warning: warnings.WarningMessage) -> bool:
    """Rasa's own list of warnings it always raises (e.g. "Slot auto-fill has been
    removed"): notes about Rasa, not findings about this project."""
    from rasa.utils.common import EXPECTED_WARNINGS

    return any(
        issubclass(warning.category, category) and re.match(pattern, str(warning.message))
        for category, pattern in EXPECTED_WARNINGS
    )


def validate_project(root: Path = PROJECT_ROOT) -> list[str]:
    """Every problem Rasa's validator reports, minus responses that actions send."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    importer = TrainingDataImporter.load_from_config(
        config_path=str(root / "config.yml"),
        domain_path=str(root / "domain.yml"),
        training_data_paths=[str(root / path) for path in TRAINING_DATA],
    )
    sent = responses_named_in_code(root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validator = Validator.from_importer(importer)
        checks = {
            "domain": validator.verify_domain_validity(),
            "actions in stories and rules": validator.verify_actions_in_stories_rules(),
            "forms in stories and rules": validator.verify_forms_in_stories_rules(),
            "form slots": validator.verify_form_slots(),
            "slot mappings": validator.verify_slot_mappings(),
            "NLU data": validator.verify_nlu(True),
            "story structure": validator.verify_story_structure(True),
        }
    problems = [f"{name} failed validation" for name, ok in checks.items() if not ok]
    for warning in caught:
        message = str(warning.message)
        if not issubclass(warning.category, UserWarning) or _expected_by_rasa(warning):
            continue
        unused = _UNUSED_RESPONSE.match(message)
        if unused and unused["name"] in sent:
            continue
        problems.append(message)
    return problems
