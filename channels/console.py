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
to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from bot.dialogue.names import HANDOFF_CLOSED_RESPONSE
from bot.dialogue.responses import response_text
from bot.handoff import signin
from bot.handoff.delivery import deliver, resume_events
from bot.language.identify import default_identifier
from bot.settings import (
    NATIVE_LANGUAGES,
    PROJECT_ROOT,
    SUPPORTED_LANGUAGES,
    TIMEZONE,
    Settings,
)
from bot.storage import handoff as store
from bot.storage.db import utcnow
from bot.translation.nlg import needs_translation, written_languages
from bot.translation.packages import PIVOT
from bot.translation.service import TranslationError, TranslationService, default_service
from channels.common import StoreBacked, client_address, secure, static_handler
from channels.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooLarge,
    Unauthorized,
    handle_errors,
)

HERE = Path(__file__).resolve().parent
CANNED_REPLIES = PROJECT_ROOT / "data" / "handoff" / "canned_replies.yml"
SESSION_COOKIE = "hb_nurse"
LOGIN_COOKIE = "hb_login"
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FORM_LIFETIME = timedelta(minutes=15)
MAX_REPLY_CHARS = 2000
#: A reply's language is detected when this sure; otherwise it is the nurse's own.
REPLY_LANGUAGE_CONFIDENCE = 0.7
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_STATIC_FILES = ("console.js", "console.css")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
TicketAction = Callable[[Request, "store.Nurse", "store.Ticket"], Awaitable[None]]


class LoginFirst(Unauthorized):
    """A page asked for without a session: the browser goes to the login form."""


def _secure(resp: HTTPResponse) -> HTTPResponse:
    return secure(resp, CONTENT_SECURITY_POLICY, cache="no-store")


def _load_canned(path: Path = CANNED_REPLIES) -> dict[str, list[str]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(raw) - set(SUPPORTED_LANGUAGES)
    if unknown:
        raise ValueError(f"{path}: unknown languages {sorted(unknown)}")
    return {language: [str(text) for text in texts] for language, texts in raw.items()}


def _clock(moment: str) -> str:
    """A message's time (ISO 8601, as in the JSON) as a Helsinki nurse reads it."""
    return datetime.fromisoformat(moment).astimezone(TIMEZONE).strftime("%H:%M")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


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
        self._canned = _load_canned()

    @property
    def _translator(self) -> TranslationService:
        return default_service(self.settings)

    # ------------------------------------------------------------------ sessions

    def _sign(self, value: str) -> str:
        key = self.settings.session_key.encode()
        digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _unsign(self, cookie: str | None) -> str | None:
        token, _, signature = (cookie or "").partition(".")
        if token and signature and hmac.compare_digest(self._sign(token), signature):
            return token
        return None

    def _set_cookie(self, resp: HTTPResponse, name: str, value: str, max_age: int) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/webhooks/console"
        cookie["max-age"] = max_age
        if self.settings.cookie_secure:
            cookie["secure"] = True

    async def _nurse(self, request: Request, page: bool) -> tuple[store.Nurse, str]:
        """The logged-in nurse and the session's CSRF token; else 401, or for a page
        the login form."""
        token = self._unsign(request.cookies.get(SESSION_COOKIE))
        found = await self._db(store.session_nurse, token) if token else None
        if found is None:
            raise (LoginFirst if page else Unauthorized)("login required")
        return found

    @staticmethod
    def _check_csrf(request: Request, expected: str) -> None:
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Forbidden("wrong or missing CSRF token")

    # ------------------------------------------------------------------ pages

    def _page(self, template: str, status: int = 200, **values: Any) -> HTTPResponse:
        html = self._templates.get_template(template).render(**values)
        return _secure(response.html(html, status=status))

    def _login_page(self, status: int = 200, error: str = "") -> HTTPResponse:
        nonce = secrets.token_urlsafe(24)
        resp = self._page("login.html", status, csrf_token=self._sign(nonce), error=error)
        self._set_cookie(resp, LOGIN_COOKIE, nonce, int(LOGIN_FORM_LIFETIME.total_seconds()))
        return resp

    async def _login(self, request: Request) -> HTTPResponse:
        nonce = request.cookies.get(LOGIN_COOKIE) or ""
        sent = request.form.get("csrf_token") or ""
        if not nonce or not hmac.compare_digest(self._sign(nonce), sent):
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
        self._set_cookie(resp, SESSION_COOKIE, f"{token}.{self._sign(token)}",
                         int(SESSION_LIFETIME.total_seconds()))
        self._set_cookie(resp, LOGIN_COOKIE, "", 0)
        return resp

    @staticmethod
    def _ticket_facts(ticket: store.Ticket, nurse: store.Nurse, now: datetime) -> dict[str, Any]:
        """What the queue shows of a ticket."""
        return {
            "id": ticket.id, "status": ticket.status, "channel": ticket.channel,
            "language": ticket.language, "topic": ticket.topic, "level": ticket.level,
            "created_at": _iso(ticket.created_at), "waiting_seconds": ticket.waiting_seconds(now),
            "mine": ticket.nurse_id == nurse.id, "claimed": ticket.nurse_id is not None,
            "summary": ticket.summary,
        }

    async def _ticket_json(self, ticket: store.Ticket, nurse: store.Nurse,
                           now: datetime) -> dict[str, Any]:
        """The ticket as the nurse reads it: each message with a translation into the
        nurse's language where it was written in another (a reply keeps the version
        the resident received)."""
        messages = []
        for m in ticket.messages:
            message = {"author": m.author, "text": m.text, "language": m.language,
                       "at": _iso(m.created_at)}
            if m.translation is not None:
                message.update(translation=m.translation,
                               translation_language=m.translation_language)
            else:
                message.update(await self._translation(m.text, m.language, nurse.language))
            messages.append(message)
        said = [{"text": text, "language": ticket.language,
                 **await self._translation(text, ticket.language, nurse.language)}
                for text in ticket.summary.get("said") or []]
        return {**self._ticket_facts(ticket, nurse, now),
                "summary": {**ticket.summary, "said": said}, "messages": messages}

    async def _translation(self, text: str, source: str | None,
                           target: str) -> dict[str, str]:
        """A translation for display, or a note saying why there is none."""
        if not source or source == target:
            return {}
        try:
            translated = await self._translator.translate_async(text, source, target)
        except TranslationError as exc:
            # fi, sv and en are the city's languages: no note on every message for them
            return {} if source in NATIVE_LANGUAGES else {"translation_note":
                                                          f"not translated: {exc}"}
        return {"translation": translated, "translation_language": target}

    async def _ticket(self, ticket_id: int) -> store.Ticket:
        ticket = await self._db(store.get_ticket, ticket_id)
        if ticket is None:
            raise NotFound("no such ticket")
        return ticket

    # ------------------------------------------------------------------ actions

    def _ticket_action(self, run: TicketAction) -> Callable[..., Awaitable[HTTPResponse]]:
        """A form post on a ticket; back to the ticket's page when it is done."""
        async def handle(request: Request, nurse: store.Nurse, csrf: str,
                         ticket_id: int) -> HTTPResponse:
            ticket = await self._ticket(ticket_id)
            await run(request, nurse, ticket)
            return _secure(response.redirect(f"/webhooks/console/tickets/{ticket.id}",
                                             status=303))
        handle.__name__ = run.__name__.lstrip("_")
        return handle

    async def _claim(self, request: Request, nurse: store.Nurse, ticket: store.Ticket) -> None:
        if not await self._db(store.claim, ticket.id, nurse.id):
            raise Conflict("the ticket is not waiting any more")
        await self._db(store.audit, nurse.id, "claim", ticket.id)

    async def _reply(self, request: Request, nurse: store.Nurse, ticket: store.Ticket) -> None:
        text = (request.form.get("text") or "").strip()
        if not text:
            raise BadRequest("the reply is empty")
        if len(text) > MAX_REPLY_CHARS:
            raise TooLarge(f"a reply has at most {MAX_REPLY_CHARS} characters")
        if ticket.status != "claimed" or ticket.nurse_id != nurse.id:
            raise Forbidden("only the nurse who claimed the ticket replies to it")
        detected = default_identifier().identify(text)
        language = detected.code if detected.supported and \
            detected.confidence >= REPLY_LANGUAGE_CONFIDENCE else nurse.language
        translated = await self._translation(text, language, ticket.language or language)
        sent = translated.get("translation", text)
        delivered = await deliver(request.app.ctx.agent, ticket.sender_id, ticket.channel, sent,
                                  ticket.language, "nurse")
        await self._db(store.add_message, ticket.id, "nurse", text, language, nurse.id,
                       translated.get("translation"), translated.get("translation_language"))
        notes = [translated.get("translation_note", ""),
                 "" if delivered else "not delivered: the resident opted out"]
        await self._db(store.audit, nurse.id, "reply", ticket.id,
                       "; ".join(note for note in notes if note))

    async def _close(self, request: Request, nurse: store.Nurse, ticket: store.Ticket) -> None:
        if not await self._db(store.close, ticket.id, nurse.id):
            raise Forbidden("only the nurse who claimed the ticket closes it")
        responses = request.app.ctx.agent.domain.responses
        text = response_text(responses, HANDOFF_CLOSED_RESPONSE, ticket.language or "en",
                             channel=ticket.channel)
        if needs_translation(written_languages(responses[HANDOFF_CLOSED_RESPONSE]),
                             HANDOFF_CLOSED_RESPONSE, ticket.language):
            text = (await self._translation(text, PIVOT, ticket.language)).get("translation", text)
        await deliver(request.app.ctx.agent, ticket.sender_id, ticket.channel, text,
                      ticket.language, "bot", resume_events())
        await self._db(store.add_message, ticket.id, "bot", text, ticket.language)
        await self._db(store.audit, nurse.id, "close", ticket.id)

    # ------------------------------------------------------------------ routes

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        console = handle_errors(Blueprint("console", __name__), _secure)

        @console.exception(LoginFirst)
        async def login_first(request: Request, error: LoginFirst) -> HTTPResponse:
            return _secure(response.redirect("/webhooks/console/login", status=303))

        def guarded(page: bool) -> Callable[..., Any]:
            """Every route but login needs a nurse, and a form post the session's CSRF
            token; pages send strangers to the login form."""
            def wrap(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Any]:
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
            token = self._unsign(request.cookies.get(SESSION_COOKIE)) or ""
            await self._db(store.end_session, token)
            await self._db(store.audit, nurse.id, "logout")
            resp = _secure(response.redirect("/webhooks/console/login", status=303))
            self._set_cookie(resp, SESSION_COOKIE, "", 0)
            return resp

        @console.route("/", methods=["GET"])
        @guarded(page=True)
        async def queue_page(request: Request, nurse: store.Nurse, csrf: str) -> HTTPResponse:
            return self._page("queue.html", nurse=nurse, csrf_token=csrf)

        @console.route("/api/queue", methods=["GET"])
        @guarded(page=False)
        async def queue_api(request: Request, nurse: store.Nurse, csrf: str) -> HTTPResponse:
            now = utcnow()
            tickets = await self._db(store.queue)
            await self._db(store.audit, nurse.id, "view_queue")
            return _secure(response.json(
                {"tickets": [self._ticket_facts(t, nurse, now) for t in tickets]}))

        @console.route("/tickets/<ticket_id:int>", methods=["GET"])
        @guarded(page=True)
        async def ticket_page(request: Request, nurse: store.Nurse, csrf: str,
                              ticket_id: int) -> HTTPResponse:
            ticket = await self._ticket(ticket_id)
            await self._db(store.audit, nurse.id, "view", ticket.id)
            canned = self._canned.get(ticket.language or "", self._canned.get("en", []))
            return self._page("ticket.html", nurse=nurse, csrf_token=csrf, ticket=ticket,
                              canned=canned, max_chars=MAX_REPLY_CHARS,
                              data=await self._ticket_json(ticket, nurse, utcnow()))

        @console.route("/api/tickets/<ticket_id:int>", methods=["GET"])
        @guarded(page=False)
        async def ticket_api(request: Request, nurse: store.Nurse, csrf: str,
                             ticket_id: int) -> HTTPResponse:
            ticket = await self._ticket(ticket_id)
            await self._db(store.audit, nurse.id, "view", ticket.id, "json")
            return _secure(response.json(await self._ticket_json(ticket, nurse, utcnow())))

        for action, run_action in (("claim", self._claim), ("reply", self._reply),
                                   ("close", self._close)):
            console.add_route(guarded(page=False)(self._ticket_action(run_action)),
                              f"/tickets/<ticket_id:int>/{action}", methods=["POST"],
                              name=f"ticket_{action}")

        for name in _STATIC_FILES:
            console.add_route(static_handler(HERE / "console_static" / name, _secure),
                              f"/static/{name}", methods=["GET"],
                              name=f"static_{name.replace('.', '_')}")
        return console
