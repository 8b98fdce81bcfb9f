"""Machine translation makes no network connection: proved in a fresh process whose
every socket connection and name lookup fails from before the first import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import PACKAGE_OUTPUTS, ROOT

Files = dict[tuple[str, str], Path]

_NO_NETWORK = r"""
import json, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] if args and isinstance(args[0], socket.socket) else args))
    raise OSError("network access refused by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from pathlib import Path
from bot.translation.packages import install
from bot.translation.service import TranslationService
import argostranslate.translate, argostranslate.package
packages = Path(sys.argv[2])
for file in sys.argv[3:]:
    install(Path(file), packages)
if sys.argv[1] == "ours":
    service = TranslationService(packages, timeout=120)
    result = {
        "de-fi": service.translate("Mein Kind hat Fieber. Was soll ich tun?", "de", "fi"),
        "en-de": service.translate("The health station is open.", "en", "de"),
    }
else:  # Argos' own path, with its default sentence splitting
    try:
        result = {"de-en": argostranslate.translate.translate("Guten Tag.", "de", "en")}
    except Exception as exc:
        result = {"error": repr(exc)}
print(json.dumps({**result, "attempts": attempts}))
"""


def _offline(mode: str, tmp_path: Path, files: list[Path]) -> dict[str, Any]:
    env = {"HOME": str(tmp_path / "home"),
           "ARGOS_PACKAGES_DIR": str(tmp_path / "pk")}
    done = subprocess.run(
        [sys.executable, "-c", _NO_NETWORK, mode, str(tmp_path / "pk"), *map(str, files)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_install_and_translate_make_no_network_connection(
        tmp_path: Path, argos_files: Files) -> None:
    """Every socket connection and name lookup fails in this process, from before the
    first import: Argos' sentence splitting included, nothing may reach out."""
    files = [argos_files[pair] for pair in (("de", "en"), ("en", "fi"), ("en", "de"))]
    result = _offline("ours", tmp_path, files)
    assert result["attempts"] == []
    assert result["de-fi"] == PACKAGE_OUTPUTS[("en", "fi")]
    assert result["en-de"] == PACKAGE_OUTPUTS[("en", "de")]


def test_the_offline_check_catches_argos_default_sentence_splitting(
        tmp_path: Path, argos_files: Files) -> None:
    """The control: Argos' default path fetches a MiniSBD model from GitHub on first use,
    and the guard above sees it. That is why the service brings its own splitter."""
    result = _offline("argos", tmp_path, [argos_files[("de", "en")]])
    assert "error" in result
    assert any("github.com" in attempt for attempt in result["attempts"])
