"""Signed cookies for a channel behind a login: HttpOnly, SameSite=Strict, on the
channel's path only, and Secure when `HEALTHBOT_COOKIE_SECURE` says the site is
served over HTTPS. A signed value is `token.signature` (HMAC-SHA256 with the
session key), so a forged or altered cookie is never looked up."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from sanic.response import HTTPResponse


@dataclass(frozen=True)
class SignedCookies:
    key: str
    path: str
    secure: bool

    def sign(self, value: str) -> str:
        digest = hmac.new(self.key.encode(), value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def signed(self, token: str) -> str:
        return f"{token}.{self.sign(token)}"

    def unsign(self, cookie: str | None) -> str | None:
        """The token of a signed value; None when it is missing, forged or altered."""
        token, _, signature = (cookie or "").partition(".")
        if token and signature and hmac.compare_digest(self.sign(token), signature):
            return token
        return None

    def set(self, resp: HTTPResponse, name: str, value: str, max_age: int) -> None:
        """Set (or with max_age 0 and no value, clear) a cookie on `resp`."""
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = self.path
        cookie["max-age"] = max_age
        if self.secure:
            cookie["secure"] = True
