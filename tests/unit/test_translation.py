"""Machine translation: packages from files, offline, pivoting through English, the
cache and the timeout, and the rules for what is translated (never a safety answer)."""

from __future__ import annotations

import asyncio
import http.server
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from bot.settings import SUPPORTED_LANGUAGES
from bot.translation.component import PivotTranslator
from bot.translation.nlg import MACHINE_NOTICE, UNAVAILABLE_NOTICE, TranslatingNLG
from bot.translation.packages import PackageError, install, installed
from bot.translation.service import (
    MissingPair,
    RuleSentencizer,
    TranslationError,
    TranslationService,
)
from bot.triage.component import RedFlagClassifier
from tests.argos_package import build_package
from tests.conftest import PACKAGE_OUTPUTS, ROOT, Healthbot, variation

Files = dict[tuple[str, str], Path]


@pytest.fixture
def packages_dir(tmp_path: Path, argos_files: Files) -> Path:
    directory = tmp_path / "packages"
    for file in argos_files.values():
        install(file, directory)
    return directory


@pytest.fixture
def service(packages_dir: Path) -> TranslationService:
    return TranslationService(packages_dir, timeout=60)


def machine(text: str, pair: tuple[str, str]) -> str:
    """What a test package writes for `text`: its one sentence per sentence read."""
    return " ".join([PACKAGE_OUTPUTS[pair]] * len(RuleSentencizer().split_sentences(text)))


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ------------------------------------------------------------------ packages and CLI


def test_install_and_list_from_files_with_the_cli(
        tmp_path: Path, argos_files: Files, healthbot: Healthbot) -> None:
    env = {"ARGOS_PACKAGES_DIR": str(tmp_path / "pk")}
    files = [str(argos_files[("de", "en")]), str(argos_files[("en", "de")])]
    done = healthbot("translate", "install", *files, env=env)
    assert done.code == 0, done.stderr
    assert "installed de→en 1.0" in done.stdout and "installed en→de 1.0" in done.stdout
    listing = healthbot("translate", "list", env=env)
    assert listing.code == 0
    assert [line.split("\t")[0] for line in listing.stdout.splitlines()] == ["de→en", "en→de"]


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(("entries", "message"), [
    (None, "not a zip archive"),
    ({"pkg/metadata.json": b"{}", "../evil.txt": b"x"}, "unsafe path"),
    ({"a/metadata.json": b"{}", "b/model/model.bin": b""}, "exactly one directory"),
    ({"pkg/metadata.json": b"{}", "pkg/sentencepiece.model": b""}, "model/model.bin is missing"),
    ({"pkg/metadata.json": b"{\"from_code\": \"de\"}", "pkg/model/model.bin": b"",
      "pkg/sentencepiece.model": b""}, "no valid to_code"),
    ({"pkg/metadata.json": b"not json", "pkg/model/model.bin": b"",
      "pkg/sentencepiece.model": b""}, "not JSON"),
])
def test_a_bad_package_file_is_refused_and_installs_nothing(
        tmp_path: Path, entries: dict[str, bytes] | None, message: str) -> None:
    file = tmp_path / "bad.argosmodel"
    if entries is None:
        file.write_bytes(b"\x00\xff not a zip")
    else:
        _zip(file, entries)
    target = tmp_path / "packages"
    with pytest.raises(PackageError, match=message):
        install(file, target)
    assert installed(target) == []
    assert not (tmp_path / "evil.txt").exists()
    assert not target.exists() or not any(target.iterdir())


def test_cli_install_reports_a_bad_file_and_still_installs_the_good_one(
        tmp_path: Path, argos_files: Files, healthbot: Healthbot) -> None:
    env = {"ARGOS_PACKAGES_DIR": str(tmp_path / "pk")}
    bad = tmp_path / "broken.argosmodel"
    bad.write_text("not a package")
    done = healthbot("translate", "install", str(bad), str(argos_files[("de", "en")]), env=env)
    assert done.code == 1
    assert "broken.argosmodel: not an Argos package" in done.stderr
    assert [info.pair for info in installed(tmp_path / "pk")] == [("de", "en")]


class _Index(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def package_index(tmp_path: Path, argos_files: Files) -> Iterator[str]:
    """Argos' package index protocol (index.json with links) on loopback."""
    root = tmp_path / "index"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: _Index(*a, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_port}/"
    entries = []
    for (source, target), file in argos_files.items():
        (root / file.name).write_bytes(file.read_bytes())
        entries.append({"from_code": source, "to_code": target, "package_version": "1.0",
                        "type": "translate", "links": [base + file.name]})
    (root / "index.json").write_text(json.dumps(entries))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()


def test_download_installs_both_directions_from_the_index(
        tmp_path: Path, package_index: str, healthbot: Healthbot) -> None:
    env = {"ARGOS_PACKAGES_DIR": str(tmp_path / "pk"),
           "ARGOS_PACKAGE_INDEX": package_index}
    done = healthbot("translate", "download", "ru", env=env)
    assert done.code == 0, done.stderr
    assert {info.pair for info in installed(tmp_path / "pk")} == {("ru", "en"), ("en", "ru")}
    missing = healthbot("translate", "download", "xh", env=env)
    assert missing.code == 1
    assert "no xh→en package" in missing.stderr


def test_download_offline_fails_with_a_clear_message(tmp_path: Path,
                                                     healthbot: Healthbot) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = {"ARGOS_PACKAGES_DIR": str(tmp_path / "pk"),
           "ARGOS_PACKAGE_INDEX": f"http://127.0.0.1:{closed}/"}
    done = healthbot("translate", "download", "de", env=env)
    assert done.code == 1
    assert "offline" in done.stderr and "healthbot translate install" in done.stderr
    assert "Traceback" not in done.stderr
    assert installed(tmp_path / "pk") == []


# ------------------------------------------------------------------ the service


def test_a_pair_without_a_package_pivots_through_english(service: TranslationService) -> None:
    assert service.route("de", "fi") == [("de", "en"), ("en", "fi")]
    assert service.route("de", "en") == [("de", "en")]
    assert service.route("fi", "fi") == []
    assert service.route("de", "sv") is None
    assert service.serves("de") and service.serves("ru") and not service.serves("sv")
    assert service.translate("Guten Tag.", "de", "fi") == PACKAGE_OUTPUTS[("en", "fi")]


def test_translations_are_cached(service: TranslationService) -> None:
    before = sample("healthbot_translations_total", {"pair": "en-ru"})
    first = service.translate("Welcome to the health station.", "en", "ru")
    again = service.translate("Welcome to the health station.", "en", "ru")
    assert first == again == PACKAGE_OUTPUTS[("en", "ru")]
    assert sample("healthbot_translations_total", {"pair": "en-ru"}) == before + 1


def test_a_slow_translation_times_out_and_is_not_lost(packages_dir: Path) -> None:
    impatient = TranslationService(packages_dir, timeout=0.001)
    before = sample("healthbot_translation_failures_total", {"pair": "de-en", "reason": "timeout"})
    with pytest.raises(TranslationError, match="took over"):
        impatient.translate("Guten Morgen.", "de", "en")  # the model is still loading
    assert sample("healthbot_translation_failures_total",
                  {"pair": "de-en", "reason": "timeout"}) == before + 1
    impatient.timeout = 60
    assert impatient.translate("Guten Morgen.", "de", "en") == PACKAGE_OUTPUTS[("de", "en")]


def test_async_translation_runs_off_the_event_loop(service: TranslationService) -> None:
    seen = []
    original = service._translate_step

    def spy(text: str, pair: tuple[str, str]) -> str:
        seen.append(threading.current_thread().name)
        return original(text, pair)

    service._translate_step = spy  # type: ignore[method-assign]
    result = asyncio.run(service.translate_async("Hello there.", "en", "de"))
    assert result == PACKAGE_OUTPUTS[("en", "de")]
    assert seen and all(name.startswith("translate") for name in seen)


def test_a_missing_pair_is_logged_once_and_counted(service: TranslationService,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    before = sample("healthbot_translation_missing_total", {"pair": "en-so"})
    for _ in range(3):
        with pytest.raises(MissingPair):
            service.translate("Hello.", "en", "so")
    assert sample("healthbot_translation_missing_total", {"pair": "en-so"}) == before + 3
    warnings = [r for r in caplog.records if "no translation package for en→so" in r.message]
    assert len(warnings) == 1


def test_a_package_installed_while_running_is_picked_up(tmp_path: Path,
                                                        argos_files: Files) -> None:
    live = TranslationService(tmp_path / "pk", timeout=60)
    assert not live.available("de", "en")
    install(argos_files[("de", "en")], tmp_path / "pk")
    assert live.available("de", "en")


def test_rule_sentencizer_needs_no_model() -> None:
    assert RuleSentencizer().split_sentences("Hei! Mitä kuuluu? Hyvää.\nToinen rivi") == [
        "Hei!", "Mitä kuuluu?", "Hyvää.", "Toinen rivi"]
    assert RuleSentencizer().split_sentences("   ") == ["   "]


# ------------------------------------------------------------------ NLU


def _message(text: str, code: str, confidence: float, supported: bool) -> Message:
    message = Message(data={"text": text})
    message.set("language", {"code": code, "confidence": confidence, "supported": supported},
                add_to_output=True)
    return message


def test_nlu_reads_a_served_language_in_english_and_keeps_the_original(
        service: TranslationService) -> None:
    message = _message("Ich möchte bitte mit jemandem sprechen", "de", 0.99, False)
    PivotTranslator(service).process([message])
    assert message.get("text") == PACKAGE_OUTPUTS[("de", "en")]
    assert message.get("translation") == {
        "from": "de", "to": "en", "original": "Ich möchte bitte mit jemandem sprechen",
        "text": PACKAGE_OUTPUTS[("de", "en")]}
    assert message.get("language")["supported"] is True


@pytest.mark.parametrize(("text", "code", "confidence", "supported"), [
    ("Milloin Malmin terveysasema on auki?", "fi", 0.99, True),  # native: never translated
    ("ok", "ru", 0.3, True),  # too unsure
    ("Bonjour, je voudrais parler à quelqu'un", "fr", 0.99, False),  # no package
])
def test_nlu_leaves_other_messages_alone(service: TranslationService, text: str, code: str,
                                         confidence: float, supported: bool) -> None:
    message = _message(text, code, confidence, supported)
    PivotTranslator(service).process([message])
    assert message.get("text") == text
    assert message.get("translation") is None
    assert message.get("language")["supported"] is supported


def test_a_red_flag_in_the_translation_counts_for_the_residents_language(
        tmp_path: Path) -> None:
    file = build_package(tmp_path, "de", "en", "my father is not breathing", ["Hallo Welt."])
    install(file, tmp_path / "pk")
    install(build_package(tmp_path, "en", "de", "Hallo", ["Hello world."]), tmp_path / "pk")
    message = _message("Mein Vater atmet nicht mehr", "de", 0.99, False)
    PivotTranslator(TranslationService(tmp_path / "pk", timeout=60)).process([message])
    message.set("intent", {"name": "greet", "confidence": 0.9}, add_to_output=True)
    RedFlagClassifier().process([message])
    assert message.get("intent")["name"] == "emergency"
    assert message.get("red_flag")["languages"] == ["de"]


# ------------------------------------------------------------------ responses


@pytest.fixture(scope="module")
def domain() -> Domain:
    return _domain()


@cache
def _domain() -> Domain:
    """Loaded once: the eight-language domain takes a second to read."""
    return Domain.load(str(ROOT / "domain.yml"))


def _tracker(language: str, *events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "resident", [SlotSet("language", language), *events], slots=_domain().slots)


def test_a_response_is_translated_with_a_notice_once(
        domain: Domain, service: TranslationService, responses: dict,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    nlg = TranslatingNLG(domain=domain, service=service)
    english = variation(responses, "utter_greet", "en")
    notice = variation(responses, MACHINE_NOTICE, "en")
    first = asyncio.run(nlg.generate("utter_greet", _tracker("de"), "rest"))
    assert first["text"] == f"{machine(notice, ('en', 'de'))}\n\n{machine(english, ('en', 'de'))}"
    assert first["translation"] == {"from": "en", "to": "de", "notice": MACHINE_NOTICE,
                                    "source": english}
    said = BotUttered(first["text"], metadata={"translation": first["translation"]})
    second = asyncio.run(nlg.generate("utter_greet", _tracker("de", said), "rest"))
    assert second["text"] == machine(english, ("en", "de"))
    assert "notice" not in second["translation"]
    assert not [r for r in caplog.records if "health assistant" in r.getMessage()]


def test_buttons_are_translated_with_the_text(
        domain: Domain, service: TranslationService, responses: dict) -> None:
    nlg = TranslatingNLG(domain=domain, service=service)
    buttons = [{"title": "Headache", "payload": "/report_symptom"}]
    reply = asyncio.run(nlg.generate("utter_ask_triage_topic", _tracker("de"), "rest",
                                     buttons=buttons))
    english = variation(responses, "utter_ask_triage_topic", "en")
    notice = variation(responses, MACHINE_NOTICE, "en")
    assert reply["text"] == f"{machine(notice, ('en', 'de'))}\n\n{machine(english, ('en', 'de'))}"
    assert buttons == [{"title": PACKAGE_OUTPUTS[("en", "de")], "payload": "/report_symptom"}]


@pytest.mark.parametrize("language", ["de", "ru", "ar"])
@pytest.mark.parametrize("name", ["utter_emergency", "utter_emergency_crisis",
                                  "utter_emergency_poisoning", "utter_emergency_check"])
def test_safety_answers_are_never_machine_translated(
        domain: Domain, service: TranslationService, responses: dict, name: str,
        language: str) -> None:
    reply = asyncio.run(TranslatingNLG(domain=domain, service=service).generate(
        name, _tracker(language), "rest"))
    assert reply["text"] == variation(responses, name, language)
    assert "translation" not in reply


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_native_languages_are_never_machine_translated(
        domain: Domain, service: TranslationService, responses: dict, language: str) -> None:
    reply = asyncio.run(TranslatingNLG(domain=domain, service=service).generate(
        "utter_greet", _tracker(language), "rest"))
    assert reply["text"] == variation(responses, "utter_greet", language)
    assert "translation" not in reply


def test_without_a_package_the_answer_is_english_with_an_apology_once(
        domain: Domain, service: TranslationService, responses: dict) -> None:
    nlg = TranslatingNLG(domain=domain, service=service)
    english = variation(responses, "utter_ask_triage_topic", "en")
    first = asyncio.run(nlg.generate("utter_ask_triage_topic", _tracker("fr"), "rest"))
    assert first["text"] == f"{variation(responses, UNAVAILABLE_NOTICE, 'en')}\n\n{english}"
    assert first["translation"]["failed"] is True
    said = BotUttered(first["text"], metadata={"translation": first["translation"]})
    again = asyncio.run(nlg.generate("utter_ask_triage_topic", _tracker("fr", said), "rest"))
    assert again["text"] == english


def test_metrics_answer_only_the_operators_networks() -> None:
    from ipaddress import ip_network
    from types import SimpleNamespace

    from bot.settings import Settings
    from channels.common import ops_allowed

    settings = Settings(ops_allow=(ip_network("10.20.0.0/16"),))
    assert ops_allowed(SimpleNamespace(ip="10.20.3.4"), settings)
    assert not ops_allowed(SimpleNamespace(ip="127.0.0.1"), settings)
    assert not ops_allowed(SimpleNamespace(ip="not an address"), settings)


def test_hand_written_variations_count_when_rasa_hands_over_the_responses_late(
        domain: Domain, service: TranslationService, responses: dict) -> None:
    """Rasa's agent builds the generator with an empty domain and sets its responses
    once the model is loaded."""
    nlg = TranslatingNLG(domain=None, service=service)
    nlg.responses = domain.responses
    reply = asyncio.run(nlg.generate("utter_greet", _tracker("ru"), "rest"))
    assert reply["text"] == variation(responses, "utter_greet", "ru")
    assert "translation" not in reply
