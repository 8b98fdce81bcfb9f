"""Action server responses are still checked as Rasa checks them, by a validator built once."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

import pytest
import rasa
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.dialogue import action_responses

RASA_METHOD = RemoteAction._validate_action_result

VALID = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "language", "value": "so"},
                {"event": "bot", "text": "Salaan"},
                {"event": "action", "name": "action_listen"},
                {"event": "active_loop", "name": None}],
     "responses": [{"response": "utter_greet"}, {"text": "Mahadsanid", "buttons": []}]},
]
INVALID = [
    {"events": {"event": "slot"}},
    {"events": [{"name": "language", "value": "so"}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "name": 5, "value": "so"}]},
    {"responses": ["utter_greet"]},
    {"responses": {"text": "hi"}},
]


def test_the_patch_is_for_this_rasa_and_this_method() -> None:
    """An upgrade of Rasa, or a change in the method replaced, fails here: re-read the
    patch, then update `PATCHED`."""
    source = inspect.getsource(RASA_METHOD)
    assert (rasa.__version__, hashlib.sha256(source.encode()).hexdigest()) \
        == action_responses.PATCHED


@pytest.mark.parametrize("response", VALID)
def test_valid_responses_pass_both(response: dict[str, Any]) -> None:
    remote = RemoteAction("action_x", None)
    assert RASA_METHOD(remote, response) is True
    assert action_responses.validate_action_result(remote, response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_fail_both_with_the_same_error(response: dict[str, Any]) -> None:
    remote = RemoteAction("action_x", None)
    with pytest.raises(ValidationError) as rasas:
        RASA_METHOD(remote, response)
    with pytest.raises(ValidationError) as ours:
        action_responses.validate_action_result(remote, response)
    assert ours.value.message == rasas.value.message
    assert list(ours.value.absolute_path) == list(rasas.value.absolute_path)
    assert "Failed to validate Action server response" in ours.value.message


def test_the_rasa_server_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    from channels import rasa_server

    monkeypatch.setattr(RemoteAction, "_validate_action_result", RASA_METHOD)
    monkeypatch.setenv("HEALTHBOT_RASA_API", "0")
    started: list[str] = []
    monkeypatch.setattr(runpy, "run_module", lambda name, **_: started.append(name))
    monkeypatch.setattr("sys.argv", ["rasa_server", "--model", "m.tar.gz"])
    rasa_server.main()
    assert started == ["rasa"]
    assert RemoteAction._validate_action_result is action_responses.validate_action_result
