"""Machine translation between installed Argos packages, offline, cached, bounded.

Every pair goes through English (SPEC: pivot English) unless a direct package
exists: `de→fi` is `de→en→fi`. Packages are read from the packages directory,
and a package installed while the server runs is picked up on the next call.

Argos' own sentence splitters all fetch a model on first use (MiniSBD downloads
from GitHub; "NONE" is not implemented and skips the package), which an
air-gapped server cannot do, so we hand `apply_packaged_translation` a
rule-based splitter that needs no data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import metrics
from bot.settings import Settings, load_settings
from bot.translation.packages import PIVOT, PackageInfo, installed

logger = logging.getLogger(__name__)

#: Longer texts are not translated (chat and SMS messages are far shorter).
MAX_CHARS = 4000
_SENTENCE_END = re.compile(r"(?<=[.!?;。؟])\s+|\n+")


class TranslationError(Exception):
    """No translation: the pair is not installed, or translating failed or timed out."""


class MissingPair(TranslationError):
    """No installed package (or chain through English) for this pair."""


@dataclass
class _Loaded:
    package: Any  # argostranslate.package.Package
    translator: Any  # ctranslate2.Translator


class RuleSentencizer:
    """Splits at sentence punctuation and line breaks; Argos' interface
    (`split_sentences`) without a model to download."""

    def split_sentences(self, text: str) -> list[str]:
        return [part for part in _SENTENCE_END.split(text) if part.strip()] or [text]


class TranslationService:
    """Translates with the packages in one directory, for one process."""

    def __init__(self, packages_dir: Path, timeout: float = 10.0, cache_size: int = 4096) -> None:
        self.packages_dir = packages_dir
        self.timeout = timeout
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._packages: dict[tuple[str, str], PackageInfo] = {}
        self._loaded: dict[tuple[str, str], _Loaded] = {}
        self._warned: set[tuple[str, str]] = set()
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="translate")

    # -- what is installed -------------------------------------------------
    def pairs(self) -> set[tuple[str, str]]:
        """Installed direct pairs; re-read when the packages directory changes."""
        try:
            stamp = self.packages_dir.stat().st_mtime
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._packages = {info.pair: info for info in installed(self.packages_dir)}
                self._loaded.clear()
                self._cache.clear()
            return set(self._packages)

    def route(self, source: str, target: str) -> list[tuple[str, str]] | None:
        """The packages a translation passes through, or None when there is no way."""
        pairs = self.pairs()
        if source == target:
            return []
        if (source, target) in pairs:
            return [(source, target)]
        if (source, PIVOT) in pairs and (PIVOT, target) in pairs:
            return [(source, PIVOT), (PIVOT, target)]
        return None

    def available(self, source: str, target: str) -> bool:
        return self.route(source, target) is not None

    def serves(self, code: str) -> bool:
        """Both ways between the language and English: enough to hold a conversation."""
        return self.available(code, PIVOT) and self.available(PIVOT, code)

    def report_missing(self, source: str, target: str) -> None:
        """Tell the operator (once per process in the log, always in the metrics)."""
        metrics.TRANSLATION_MISSING.labels(pair=f"{source}-{target}").inc()
        if (source, target) not in self._warned:
            self._warned.add((source, target))
            logger.warning(
                "no translation package for %s→%s: install one with "
                "`healthbot translate install FILE.argosmodel`", source, target,
            )

    # -- translating -------------------------------------------------------
    def translate(self, text: str, source: str, target: str) -> str:
        """Blocking translation with the timeout; for code that has no event loop."""
        route = self._route_or_raise(source, target)
        key = (source, target, text)
        cached = self._cached(key)
        if cached is not None:
            return cached
        future = self._executor.submit(self._run, route, key)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout as exc:
            self._failed(source, target, "timeout")
            raise TranslationError(f"{source}→{target} took over {self.timeout} s") from exc

    async def translate_async(self, text: str, source: str, target: str) -> str:
        """The same off the event loop: the loop keeps serving while CTranslate2 runs."""
        route = self._route_or_raise(source, target)
        key = (source, target, text)
        cached = self._cached(key)
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._run, route, key)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except asyncio.TimeoutError as exc:
            self._failed(source, target, "timeout")
            raise TranslationError(f"{source}→{target} took over {self.timeout} s") from exc

    def _route_or_raise(self, source: str, target: str) -> list[tuple[str, str]]:
        route = self.route(source, target)
        if route is None:
            self.report_missing(source, target)
            raise MissingPair(f"no translation package for {source}→{target}")
        return route

    def _cached(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        return None

    def _run(self, route: list[tuple[str, str]], key: tuple[str, str, str]) -> str:
        """Runs in a worker thread; the result is cached even if the caller gave up."""
        text = key[2]
        if len(text) > MAX_CHARS:
            self._failed(key[0], key[1], "too_long")
            raise TranslationError(f"text of {len(text)} characters is over {MAX_CHARS}")
        try:
            for pair in route:
                text = self._translate_step(text, pair)
        except TranslationError:
            raise
        except Exception as exc:  # CTranslate2 and SentencePiece raise plain errors
            self._failed(key[0], key[1], "error")
            raise TranslationError(f"{key[0]}→{key[1]} failed: {exc}") from exc
        metrics.TRANSLATIONS.labels(pair=f"{key[0]}-{key[1]}").inc()
        with self._lock:
            self._cache[key] = text
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return text

    def _translate_step(self, text: str, pair: tuple[str, str]) -> str:
        from argostranslate.translate import apply_packaged_translation

        loaded = self._load(pair)
        parts = []
        for paragraph in text.split("\n"):
            if not paragraph.strip():
                parts.append(paragraph)
                continue
            hypotheses = apply_packaged_translation(
                loaded.package, paragraph, loaded.translator, RuleSentencizer(), 1
            )
            parts.append(hypotheses[0].value)
        return "\n".join(parts)

    def _load(self, pair: tuple[str, str]) -> _Loaded:
        with self._lock:
            if pair in self._loaded:
                return self._loaded[pair]
            info = self._packages.get(pair)
        if info is None:
            raise MissingPair(f"no translation package for {pair[0]}→{pair[1]}")
        import ctranslate2
        from argostranslate.package import Package

        # Argos logs every text it translates at INFO: residents' words stay out of logs.
        logging.getLogger("argostranslate.utils").setLevel(logging.WARNING)
        loaded = _Loaded(
            Package(info.path),
            ctranslate2.Translator(str(info.path / "model"), device="cpu",
                                   inter_threads=1, intra_threads=1),
        )
        with self._lock:
            self._loaded[pair] = loaded
        return loaded

    def _failed(self, source: str, target: str, reason: str) -> None:
        metrics.TRANSLATION_FAILURES.labels(pair=f"{source}-{target}", reason=reason).inc()
        logger.warning("translation %s→%s failed: %s", source, target, reason)


def configure_argos(settings: Settings) -> None:
    """Point Argos at our packages directory before it is first imported (it reads
    its settings at import time), so nothing lands in a home directory's default."""
    os.environ.setdefault("ARGOS_PACKAGES_DIR", str(settings.argos_packages_dir))
    os.environ.setdefault("ARGOS_PACKAGE_INDEX", settings.argos_package_index)


_SERVICES: dict[Path, TranslationService] = {}
_SERVICES_LOCK = threading.Lock()


def default_service(settings: Settings | None = None) -> TranslationService:
    """One service per packages directory and process, so caches are shared."""
    settings = settings or load_settings()
    configure_argos(settings)
    with _SERVICES_LOCK:
        service = _SERVICES.get(settings.argos_packages_dir)
        if service is None:
            service = TranslationService(settings.argos_packages_dir,
                                         settings.translation_timeout,
                                         settings.translation_cache_size)
            _SERVICES[settings.argos_packages_dir] = service
        return service
