"""Phone numbers never reach trackers or logs: a conversation is keyed by an HMAC of
the number (a pseudonym that stays the same across conversations), and the number
itself is kept only Fernet-encrypted, for delivery."""

from __future__ import annotations

import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken

PSEUDONYM_PREFIX = "sms-"
FINNISH_PREFIX = "+358"
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


class IdentityError(ValueError):
    """A key is missing or malformed, or a stored number cannot be decrypted."""


def normalise_number(raw: str) -> str:
    """The number as the operator sends it (E.164), without spaces or dashes."""
    number = re.sub(r"[\s\-()]", "", raw or "")
    if not _NUMBER.match(number):
        raise ValueError("not a phone number")
    return number


class PhoneIdentity:
    def __init__(self, pseudonym_key: str, encryption_key: str) -> None:
        if not pseudonym_key:
            raise IdentityError("HEALTHBOT_PSEUDONYM_KEY is not set")
        try:
            self._fernet = Fernet(encryption_key.encode())
        except (ValueError, TypeError) as exc:
            raise IdentityError(
                "HEALTHBOT_ENCRYPTION_KEY must be a Fernet key (Fernet.generate_key())"
            ) from exc
        self._pseudonym_key = pseudonym_key.encode()

    def pseudonym(self, number: str) -> str:
        digest = hmac.new(self._pseudonym_key, number.encode(), hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest[:40]

    def encrypt(self, number: str) -> str:
        return self._fernet.encrypt(number.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise IdentityError("a stored number does not decrypt with this key") from exc


def is_finnish(number: str) -> bool:
    return number.startswith(FINNISH_PREFIX)
