"""Model training, cached by a fingerprint of what the model learns from.

`rasa train` takes minutes on two cores. The model file is named after a
hash of the config, domain and training data, the code of the custom
components and policies the config names (with every project module they
import), and the Rasa version, so `make run` and the test session train only
when one of those changed. How long training took is kept beside the model.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import rasa
import yaml

from bot.settings import Settings

logger = logging.getLogger(__name__)

CONFIG = "config.yml"
DOMAIN = "domain.yml"
#: The training data proper; content files under data/ (red flags, word lists)
#: are read at run time and are not part of the model.
TRAINING_DATA = ("data/nlu", "data/rules.yml", "data/stories.yml")
MODEL_PREFIX = "healthbot-"
KEEP_MODELS = 3
#: The project's own packages: code a custom component may run while the model trains.
PROJECT_PACKAGES = frozenset({"bot", "actions", "channels"})


def training_files(home: Path) -> list[Path]:
    files: list[Path] = [home / CONFIG, home / DOMAIN]
    for entry in TRAINING_DATA:
        path = home / entry
        files.extend(sorted(path.rglob("*.yml")) if path.is_dir() else [path])
    return files + component_sources(home)


def component_sources(home: Path) -> list[Path]:
    """The files of the custom components and policies in the config and of every
    project module they import, however indirectly (each package's `__init__` too)."""
    config = yaml.safe_load((home / CONFIG).read_text(encoding="utf-8"))
    names = [entry["name"] for section in ("pipeline", "policies")
             for entry in config.get(section) or []]
    todo = [name.rsplit(".", 1)[0] for name in names if "." in name]
    found: dict[str, Path] = {}
    while todo:
        module = todo.pop()
        path = _module_file(home, module)
        if module in found or path is None:
            continue
        found[module] = path
        todo.extend(_project_imports(path))
        todo.extend(module.rsplit(".", depth)[0] for depth in range(1, module.count(".") + 1))
    return sorted(found.values())


def _module_file(home: Path, module: str) -> Path | None:
    base = home.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _project_imports(path: Path) -> list[str]:
    """Modules of the project a file imports, anywhere in it (also inside functions);
    `from package import name` counts `package.name` too, which may be a module."""
    imported: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.append(node.module)
            imported.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return [name for name in imported if name.split(".")[0] in PROJECT_PACKAGES]


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
    logger.info("training %s (config, domain, data or component code changed)", target.name)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.monotonic()
    subprocess.run(command, cwd=home, env=env, check=True)
    if not target.exists():
        raise RuntimeError(f"rasa train finished but {target} is missing")
    seconds = round(time.monotonic() - started, 1)
    _facts_file(target).write_text(json.dumps({"training_seconds": seconds}))
    logger.info("trained %s in %.0f s", target.name, seconds)
    _prune_old_models(settings.model_dir, keep=target)
    return target


def _facts_file(model: Path) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + ".json")


def training_facts(model: Path) -> dict[str, float]:
    """What training this model took (`training_seconds`), if it was trained here."""
    facts = _facts_file(model)
    return json.loads(facts.read_text()) if facts.exists() else {}


def _prune_old_models(model_dir: Path, keep: Path) -> None:
    models = sorted(model_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in models[:-KEEP_MODELS]:
        if old != keep:
            old.unlink()
            _facts_file(old).unlink(missing_ok=True)
