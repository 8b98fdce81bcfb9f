"""Settings come from the environment; the model is retrained only when its inputs change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import load_settings
from bot.training import fingerprint, training_files
from tests.conftest import ROOT


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_PORT", "6005")
    monkeypatch.setenv("HEALTHBOT_NOW", "2026-12-24T10:00:00+02:00")
    settings = load_settings()
    assert settings.rasa_port == 6005
    assert settings.now().isoformat() == "2026-12-24T10:00:00+02:00"
    assert settings.effective_database_url.startswith("sqlite:///")
    monkeypatch.setenv("RASA_PORT", "fifty")
    with pytest.raises(ValueError, match="RASA_PORT must be a number"):
        load_settings()
    monkeypatch.setenv("RASA_PORT", "5005")
    monkeypatch.setenv("HEALTHBOT_NOW", "2026-12-24T10:00:00")
    with pytest.raises(ValueError, match="HEALTHBOT_NOW needs a UTC offset"):
        load_settings().now()


def _training_inputs(tmp_path: Path) -> Path:
    """A copy of what the model is trained from, to change without touching the project."""
    copy = tmp_path / "bot"
    for path in training_files(ROOT):
        target = copy / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return copy


def test_fingerprint_changes_only_with_training_inputs(tmp_path: Path) -> None:
    copy = _training_inputs(tmp_path)
    before = fingerprint(copy)
    (copy / "README.md").write_text("docs do not retrain")
    assert fingerprint(copy) == before
    (copy / "bot" / "cli.py").write_text("# the CLI is not part of the model")
    assert fingerprint(copy) == before
    nlu = copy / "data" / "nlu" / "en.yml"
    nlu.write_text(nlu.read_text() + "    - hiya there\n")
    assert fingerprint(copy) != before


@pytest.mark.parametrize("module", [
    "bot/triage/component.py",  # named in config.yml
    "bot/triage/redflags.py",  # imported by it
    "bot/language/identify.py",  # imported by the language detector
    "bot/dialogue/policy.py",  # a policy
])
def test_the_fingerprint_covers_the_custom_components_code(tmp_path: Path, module: str) -> None:
    copy = _training_inputs(tmp_path)
    assert copy / module in training_files(copy)
    before = fingerprint(copy)
    source = copy / module
    source.write_text(source.read_text() + "\n# changed\n")
    assert fingerprint(copy) != before
