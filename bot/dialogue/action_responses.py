"""Rasa checks every action server response against a JSON schema, compiled once here.

Rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate`, which
first checks the (fixed) response schema against the draft 2020-12 meta-schema and
builds a new validator, on every response: about half of the Rasa process's CPU per
message (py-spy, issue 20). The same schema compiled into one validator gives the same
guarantee: the same errors, picked by the same `best_match`, with Rasa's own message.

`install()` swaps the method in the Rasa server process (`channels/rasa_server.py`).
`PATCHED` pins the Rasa version and the source of the method replaced; a test fails
when either changes, so an upgrade re-reads this patch instead of silently keeping it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import exceptions, validators
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

#: Rasa version and sha256 of `inspect.getsource(RemoteAction._validate_action_result)`.
PATCHED = ("3.6.21", "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42")


@lru_cache(maxsize=1)
def response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result` with the validator built once."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Replace Rasa's method; idempotent."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]

