"""Model training, cached by a fingerprint of what the model learns from.

`rasa train` takes minutes on two cores. The model file is named after a
hash of the config, domain and training data (and the Rasa version), so
`make run` and the test session train only when one of those changed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import rasa

from bot.settings import Settings

logger = logging.getLogger(__name__)

CONFIG = "config.yml"
DOMAIN = "domain.yml"
#: The training data proper; content files under data/ (red flags, word lists)
#: are read at run time and are not part of the model.
TRAINING_DATA = ("data/nlu", "data/rules.yml", "data/stories.yml")
MODEL_PREFIX = "healthbot-"
KEEP_MODELS = 3


def training_files(home: Path) -> list[Path]:
    files: list[Path] = [home / CONFIG, home / DOMAIN]
    for entry in TRAINING_DATA:
        path = home / entry
        files.extend(sorted(path.rglob("*.yml")) if path.is_dir() else [path])
    return files


def fingerprint(home: Path) -> str:
    digest = hashlib.sha256(f"rasa={rasa.__version__}".encode())
    for path in training_files(home):
        digest.update(str(path.relative_to(home)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.model_dir / f"{MODEL_PREFIX}{fingerprint(settings.home)}.tar.gz"


def ensure_model(settings: Settings, force: bool = False) -> Path:
    """Return the model for the current data, training it first if it is missing."""
    target = model_path(settings)
    if target.exists() and not force:
        logger.info("model is up to date: %s", target.name)
        return target
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    home = settings.home
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(home / CONFIG),
        "--domain", str(home / DOMAIN),
        "--data", *(str(home / entry) for entry in TRAINING_DATA),
        "--out", str(settings.model_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]
    logger.info("training %s (config, domain or data changed)", target.name)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run(command, cwd=home, env=env, check=True)
    if not target.exists():
        raise RuntimeError(f"rasa train finished but {target} is missing")
    _prune_old_models(settings.model_dir, keep=target)
    return target


def _prune_old_models(model_dir: Path, keep: Path) -> None:
    models = sorted(model_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in models[:-KEEP_MODELS]:
        if old != keep:
            old.unlink()
