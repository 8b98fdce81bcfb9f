"""The nurse console: a web page behind a login where nurses work the handoff queue.

Mounted by Rasa under `/webhooks/console/` (see `credentials.yml`):

    GET  /login, POST /login, POST /logout
    GET  /                      the queue (updates itself from /api/queue)
    GET  /tickets/<id>          summary, transcript, claim / reply / close
    POST /tickets/<id>/claim | /reply | /close
    GET  /api/queue, /api/tickets/<id>   JSON for the live views
    GET  /static/console.js, /static/console.css

Sessions are random tokens in a signed, HttpOnly, SameSite=Strict cookie (only the
token's hash is stored); every form carries the session's CSRF token. Failed sign-ins
slow down the next ones per pair of e-mail and client address and per client address
(`bot.handoff.signin`; X-Forwarded-For names the client only from a peer in
`TRUSTED_PROXIES`); a refused attempt gets a 429 with Retry-After. Every read (the
queue, a ticket's page or JSON), claim, reply, close, sign-in and sign-out is written
to the audit log. The work on tickets (translations, delivery, the audit) is
`bot.handoff.console`'s; this module speaks HTTP.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from bot.handoff import console as handoff
from bot.handoff import signin
from bot.settings import TIMEZONE, Settings
from bot.storage import handoff as store
from bot.translation.service import default_service
from channels import errors
from channels.common import StoreBacked, client_address, secure, static_handler
from channels.cookies import SignedCookies

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "hb_nurse"
LOGIN_COOKIE = "hb_login"
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FORM_LIFETIME = timedelta(minutes=15)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_STATIC_FILES = ("console.js", "console.css")
#: How the console answers each refusal of the handoff's rules.
_REFUSALS: dict[type[handoff.Refusal], type[errors.ChannelError]] = {
    handoff.NoSuchTicket: errors.NotFound, handoff.NotWaiting: errors.Conflict,
    handoff.NotYours: errors.Forbidden, handoff.EmptyReply: errors.BadRequest,
    handoff.ReplyTooLong: errors.TooLarge,
}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
Handler = Callable[..., Awaitable[HTTPResponse]]


class LoginFirst(errors.Unauthorized):
    """A page asked for without a session: the browser goes to the login form."""


def _secure(resp: HTTPResponse) -> HTTPResponse:
    return secure(resp, CONTENT_SECURITY_POLICY, cache="no-store")


def _to_ticket(ticket_id: int) -> HTTPResponse:
    """After a form post on a ticket: back to the ticket's page."""
    return _secure(response.redirect(f"/webhooks/console/tickets/{ticket_id}", status=303))


def _clock(moment: str) -> str:
    """A message's time (ISO 8601, as in the JSON) as a Helsinki nurse reads it."""
    return datetime.fromisoformat(moment).astimezone(TIMEZONE).strftime("%H:%M")


class NurseConsole(StoreBacked, InputChannel):
    """Rasa input channel that serves the console (it takes no resident messages)."""

    @classmethod
    def name(cls) -> str:
        return "console"

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None) -> None:
        super().__init__(settings=settings, engine=engine)
        self._templates = Environment(loader=FileSystemLoader(HERE / "console_templates"),
                                      autoescape=select_autoescape(default=True))
        self._templates.filters["clock"] = _clock
        self._canned = handoff.CannedReplies.load()

    @cached_property
    def _desk(self) -> handoff.Desk:
        """Made on first use, like the cookies: the settings are read then."""
        return handoff.Desk(self.engine, default_service(self.settings))

    @cached_property
    def _cookies(self) -> SignedCookies:
        return SignedCookies(self.settings.session_key, "/webhooks/console",
                             self.settings.cookie_secure)

    # ------------------------------------------------------------------ sessions

    async def _nurse(self, request: Request, page: bool) -> tuple[store.Nurse, str]:
        """The logged-in nurse and the session's CSRF token; else 401, or for a page
        the login form."""
        token = self._cookies.unsign(request.cookies.get(SESSION_COOKIE))
        found = await self._db(store.session_nurse, token) if token else None
        if found is None:
            raise (LoginFirst if page else errors.Unauthorized)("login required")
        return found

    @staticmethod
    def _check_csrf(request: Request, expected: str) -> None:
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise errors.Forbidden("wrong or missing CSRF token")

    # ------------------------------------------------------------------ pages

    def _page(self, template: str, status: int = 200, **values: Any) -> HTTPResponse:
        html = self._templates.get_template(template).render(**values)
        return _secure(response.html(html, status=status))

    def _login_page(self, status: int = 200, error: str = "") -> HTTPResponse:
        nonce = secrets.token_urlsafe(24)
        resp = self._page("login.html", status, csrf_token=self._cookies.sign(nonce), error=error)
        self._cookies.set(resp, LOGIN_COOKIE, nonce, int(LOGIN_FORM_LIFETIME.total_seconds()))
        return resp

    async def _login(self, request: Request) -> HTTPResponse:
        nonce = request.cookies.get(LOGIN_COOKIE) or ""
        sent = request.form.get("csrf_token") or ""
        if not nonce or not hmac.compare_digest(self._cookies.sign(nonce), sent):
            return self._login_page(403, "The form expired. Please sign in again.")
        outcome = await self._db(signin.sign_in, request.form.get("email") or "",
                                 request.form.get("password") or "",
                                 client_address(request, self.settings.trusted_proxies))
        if outcome.wait:
            resp = self._login_page(429, "Too many failed attempts. "
                                         f"Try again in {outcome.wait_text}.")
            resp.headers["Retry-After"] = str(outcome.wait)
            return resp
        if outcome.nurse is None:
            return self._login_page(401, "Wrong e-mail address or password.")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await self._db(store.create_session, outcome.nurse.id, token, csrf, SESSION_LIFETIME)
        resp = _secure(response.redirect("/webhooks/console/", status=303))
        self._cookies.set(resp, SESSION_COOKIE, self._cookies.signed(token),
                          int(SESSION_LIFETIME.total_seconds()))
        self._cookies.set(resp, LOGIN_COOKIE, "", 0)
        return resp

    # ------------------------------------------------------------------ routes

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        console = errors.handle_errors(Blueprint("console", __name__), _secure)

        @console.exception(LoginFirst)
        async def login_first(request: Request, error: LoginFirst) -> HTTPResponse:
            return _secure(response.redirect("/webhooks/console/login", status=303))

        @console.exception(handoff.Refusal)
        async def refused(request: Request, refusal: handoff.Refusal) -> HTTPResponse:
            return errors.error_response(_REFUSALS[type(refusal)](str(refusal)), _secure)

        def guarded(page: bool) -> Callable[[Handler], Handler]:
            """Every route but login needs a nurse, and a form post the session's CSRF
            token; pages send strangers to the login form."""
            def wrap(handler: Handler) -> Handler:
                async def run(request: Request, **kwargs: Any) -> HTTPResponse:
                    nurse, csrf = await self._nurse(request, page)
                    if request.method == "POST":
                        self._check_csrf(request, csrf)
                    return await handler(request, nurse, csrf, **kwargs)
                run.__name__ = handler.__name__
                return run
            return wrap

        @console.route("/login", methods=["GET"])
        async def login_form(request: Request) -> HTTPResponse:
            return self._login_page()

        @console.route("/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            return await self._login(request)

        @console.route("/logout", methods=["POST"])
        @guarded(page=False)
        async def logout(request: Request, nurse: store.Nurse, csrf: str) -> HTTPResponse:
            token = self._cookies.unsign(request.cookies.get(SESSION_COOKIE)) or ""
            await self._db(store.end_session, token)
            await self._db(store.audit, nurse.id, "logout")
            resp = _secure(response.redirect("/webhooks/console/login", status=303))
            self._cookies.set(resp, SESSION_COOKIE, "", 0)
            return resp

        @console.route("/", methods=["GET"])
        @guarded(page=True)
        async def queue_page(request: Request, nurse: store.Nurse, csrf: str) -> HTTPResponse:
            return self._page("queue.html", nurse=nurse, csrf_token=csrf)

        @console.route("/api/queue", methods=["GET"])
        @guarded(page=False)
        async def queue_api(request: Request, nurse: store.Nurse, csrf: str) -> HTTPResponse:
            return _secure(response.json({"tickets": await self._desk.queue(nurse)}))

        @console.route("/tickets/<ticket_id:int>", methods=["GET"])
        @guarded(page=True)
        async def ticket_page(request: Request, nurse: store.Nurse, csrf: str,
                              ticket_id: int) -> HTTPResponse:
            ticket, data = await self._desk.read(nurse, ticket_id)
            return self._page("ticket.html", nurse=nurse, csrf_token=csrf, ticket=ticket,
                              canned=self._canned.get(ticket.language, nurse.language),
                              max_chars=handoff.MAX_REPLY_CHARS, data=data)

        @console.route("/api/tickets/<ticket_id:int>", methods=["GET"])
        @guarded(page=False)
        async def ticket_api(request: Request, nurse: store.Nurse, csrf: str,
                             ticket_id: int) -> HTTPResponse:
            _, data = await self._desk.read(nurse, ticket_id, "json")
            return _secure(response.json(data))

        @console.route("/tickets/<ticket_id:int>/claim", methods=["POST"])
        @guarded(page=False)
        async def ticket_claim(request: Request, nurse: store.Nurse, csrf: str,
                               ticket_id: int) -> HTTPResponse:
            await self._desk.claim(nurse, ticket_id)
            return _to_ticket(ticket_id)

        @console.route("/tickets/<ticket_id:int>/reply", methods=["POST"])
        @guarded(page=False)
        async def ticket_reply(request: Request, nurse: store.Nurse, csrf: str,
                               ticket_id: int) -> HTTPResponse:
            await self._desk.reply(request.app.ctx.agent, nurse, ticket_id,
                                   request.form.get("text") or "")
            return _to_ticket(ticket_id)

        @console.route("/tickets/<ticket_id:int>/close", methods=["POST"])
        @guarded(page=False)
        async def ticket_close(request: Request, nurse: store.Nurse, csrf: str,
                               ticket_id: int) -> HTTPResponse:
            await self._desk.close(request.app.ctx.agent, nurse, ticket_id)
            return _to_ticket(ticket_id)

        for name in _STATIC_FILES:
            console.add_route(static_handler(HERE / "console_static" / name, _secure),
                              f"/static/{name}", methods=["GET"],
                              name=f"static_{name.replace('.', '_')}")
        return console
