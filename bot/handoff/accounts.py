"""Nurse accounts: argon2id password hashes, made and checked here only."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from bot.settings import SUPPORTED_LANGUAGES
from bot.storage import handoff as store

MIN_PASSWORD_CHARS = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HASHER = PasswordHasher()
#: Checked when the address is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("no such nurse, but the same work")


class AccountError(ValueError):
    """An address or password the console cannot accept; the message says why."""


def _check_language(language: str) -> None:
    if language not in SUPPORTED_LANGUAGES:
        raise AccountError(f"unknown language {language!r} "
                           f"(one of {', '.join(SUPPORTED_LANGUAGES)})")


def add_nurse(engine: Engine, email: str, password: str, language: str = "fi") -> int:
    if not _EMAIL.match(email.strip()):
        raise AccountError(f"{email!r} is not an e-mail address")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    _check_language(language)
    try:
        return store.add_nurse(engine, email, _HASHER.hash(password), language)
    except ValueError as exc:
        raise AccountError(str(exc)) from exc


def set_language(engine: Engine, email: str, language: str) -> None:
    """The language the console translates residents' messages into for this nurse."""
    _check_language(language)
    if not store.set_language(engine, email, language):
        raise AccountError(f"no nurse account for {email}")


def authenticate(engine: Engine, email: str, password: str) -> store.Nurse | None:
    """The nurse whose password this is, or None; rehashes when parameters were raised."""
    nurse = store.nurse_by_email(engine, email)
    try:
        _HASHER.verify(nurse.password_hash if nurse else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if nurse is None:
        return None
    if _HASHER.check_needs_rehash(nurse.password_hash):
        store.set_password_hash(engine, nurse.id, _HASHER.hash(password))
    return nurse
