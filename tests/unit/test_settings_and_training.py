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


def test_fingerprint_changes_only_with_training_inputs(tmp_path: Path) -> None:
    copy = tmp_path / "bot"
    for path in training_files(ROOT):
        target = copy / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    before = fingerprint(copy)
    (copy / "README.md").write_text("docs do not retrain")
    assert fingerprint(copy) == before
    nlu = copy / "data" / "nlu" / "en.yml"
    nlu.write_text(nlu.read_text() + "    - hiya there\n")
    assert fingerprint(copy) != before
