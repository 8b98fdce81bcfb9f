"""Argos Translate packages on disk: install from files, list, download.

A package is a zip (`.argosmodel`) of one directory holding `metadata.json`,
a CTranslate2 `model/` and a `sentencepiece.model` (or `bpe.model`). Servers
are air-gapped, so installing works from files copied in; only `download`
talks to the network, and it says so plainly when there is none.

We unpack archives ourselves instead of `argostranslate.package.install_from_path`:
that one extracts into a directory fixed when `argostranslate` is first imported,
and trusts every path in the archive.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

PACKAGE_SUFFIX = ".argosmodel"
#: The language every package must translate from or into (SPEC: pivot English).
PIVOT = "en"
DOWNLOAD_TIMEOUT = 30.0


class PackageError(Exception):
    """A package file or index that cannot be used; the message says why."""


@dataclass(frozen=True)
class PackageInfo:
    """One installed translation direction."""

    from_code: str
    to_code: str
    from_name: str
    to_name: str
    version: str
    path: Path

    @property
    def pair(self) -> tuple[str, str]:
        return self.from_code, self.to_code


def read_metadata(data: dict[str, Any], source: str) -> dict[str, str]:
    """The fields we rely on, checked: a translate package between two codes."""
    if data.get("type", "translate") != "translate":
        raise PackageError(f"{source}: not a translation package (type {data.get('type')!r})")
    fields = {}
    for key in ("from_code", "to_code"):
        value = data.get(key)
        if not isinstance(value, str) or not value.isalpha() or not 2 <= len(value) <= 3:
            raise PackageError(f"{source}: metadata.json has no valid {key}")
        fields[key] = value.lower()
    for key in ("from_name", "to_name", "package_version"):
        fields[key] = str(data.get(key) or "")
    return fields


def _package_root(archive: zipfile.ZipFile, source: str) -> str:
    """The one top-level directory of the archive; any path leaving it is refused."""
    tops = set()
    for name in archive.namelist():
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or "\\" in name:
            raise PackageError(f"{source}: unsafe path in archive: {name!r}")
        tops.add(path.parts[0])
    if len(tops) != 1:
        raise PackageError(f"{source}: an Argos package holds exactly one directory")
    root = tops.pop()
    names = set(archive.namelist())
    for required in ("metadata.json", "model/model.bin"):
        if f"{root}/{required}" not in names:
            raise PackageError(f"{source}: {required} is missing")
    if not {f"{root}/sentencepiece.model", f"{root}/bpe.model"} & names:
        raise PackageError(f"{source}: no sentencepiece.model or bpe.model")
    return root


def install(path: Path, packages_dir: Path) -> PackageInfo:
    """Install one `.argosmodel` file, replacing an installed package of the same pair."""
    source = str(path)
    if not path.is_file():
        raise PackageError(f"{source}: no such file")
    if not zipfile.is_zipfile(path):
        raise PackageError(f"{source}: not an Argos package (not a zip archive)")
    packages_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path) as archive:
        root = _package_root(archive, source)
        try:
            metadata = json.loads(archive.read(f"{root}/metadata.json"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise PackageError(f"{source}: metadata.json is not JSON ({exc})") from exc
        if not isinstance(metadata, dict):
            raise PackageError(f"{source}: metadata.json is not an object")
        fields = read_metadata(metadata, source)
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=packages_dir))
        try:
            archive.extractall(staging)
            target = packages_dir / f"translate-{fields['from_code']}_{fields['to_code']}"
            if target.exists():
                shutil.rmtree(target)
            (staging / root).rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _info(target)


def _info(directory: Path) -> PackageInfo:
    metadata = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
    fields = read_metadata(metadata, str(directory))
    return PackageInfo(fields["from_code"], fields["to_code"], fields["from_name"],
                       fields["to_name"], fields["package_version"], directory)


def installed(packages_dir: Path) -> list[PackageInfo]:
    """Every readable package in the directory, sorted by pair. A broken one is
    skipped here; `healthbot translate list` shows what is usable."""
    found = []
    if packages_dir.is_dir():
        for directory in sorted(packages_dir.iterdir()):
            if directory.is_dir() and not directory.name.startswith("."):
                try:
                    found.append(_info(directory))
                except (OSError, ValueError, PackageError):
                    continue
    return sorted(found, key=lambda info: info.pair)


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            return response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PackageError(
            f"cannot download {url}: {reason}. This machine seems to be offline: download "
            f"the .argosmodel files on a connected machine and install them here with "
            f"`healthbot translate install FILE...`"
        ) from exc


def download(codes: Iterable[str], packages_dir: Path, index_url: str) -> list[PackageInfo]:
    """Install both directions between English and each language from Argos' index."""
    index_url = index_url if index_url.endswith("/") else index_url + "/"
    try:
        index = json.loads(_fetch(index_url + "index.json"))
    except ValueError as exc:
        raise PackageError(f"{index_url}index.json is not a package index ({exc})") from exc
    entries = [entry for entry in index if isinstance(entry, dict)]
    done = []
    for code in codes:
        for pair in ((code, PIVOT), (PIVOT, code)):
            entry = next((e for e in entries
                          if (e.get("from_code"), e.get("to_code")) == pair), None)
            if entry is None:
                raise PackageError(f"the package index has no {pair[0]}→{pair[1]} package")
            links = [link for link in entry.get("links") or [] if isinstance(link, str)]
            if not links:
                raise PackageError(f"the {pair[0]}→{pair[1]} package has no download link")
            with tempfile.TemporaryDirectory() as scratch:
                file = Path(scratch) / f"{pair[0]}_{pair[1]}{PACKAGE_SUFFIX}"
                file.write_bytes(_fetch(links[0]))
                done.append(install(file, packages_dir))
    return done
