"""SMS privacy and the queues, on a real database (the webhook's signatures are the
channel's: tests/unit/test_sms_channel.py)."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.settings import load_settings, local_secrets
from bot.sms.identity import IdentityError, PhoneIdentity, normalise_number
from bot.storage import sms as store

NUMBER = "+358401112233"
KEY = Fernet.generate_key().decode()
T0 = datetime(2026, 12, 14, 8, 0, tzinfo=timezone.utc)


def test_the_pseudonym_is_stable_keyed_and_reveals_no_digits() -> None:
    identity = PhoneIdentity("secret-one", KEY)
    pseudonym = identity.pseudonym(NUMBER)
    assert pseudonym == identity.pseudonym(NUMBER) == PhoneIdentity("secret-one",
                                                                    KEY).pseudonym(NUMBER)
    assert pseudonym != PhoneIdentity("secret-two", KEY).pseudonym(NUMBER)
    assert pseudonym != identity.pseudonym("+358401112234")
    assert "401112233" not in pseudonym and len(pseudonym) <= 64


def test_numbers_are_stored_encrypted_and_need_the_key() -> None:
    identity = PhoneIdentity("secret", KEY)
    token = identity.encrypt(NUMBER)
    assert NUMBER not in token and identity.decrypt(token) == NUMBER
    with pytest.raises(IdentityError):
        PhoneIdentity("secret", Fernet.generate_key().decode()).decrypt(token)
    with pytest.raises(IdentityError, match="Fernet key"):
        PhoneIdentity("secret", "not-a-key")
    with pytest.raises(IdentityError, match="HEALTHBOT_PSEUDONYM_KEY"):
        PhoneIdentity("", KEY)


@pytest.mark.parametrize("raw", ["", "abc", "+3584011122334455667788", "12", "+358-40-x"])
def test_only_phone_numbers_are_accepted(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_number(raw)
    assert normalise_number("+358 40 111-2233") == NUMBER


def test_local_secrets_are_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = replace(load_settings(), var_dir=tmp_path, pseudonym_key="", encryption_key="",
                       session_key="", rasa_api_token="", action_token="")
    made = local_secrets(settings)
    assert set(made) == {"HEALTHBOT_PSEUDONYM_KEY", "HEALTHBOT_ENCRYPTION_KEY",
                         "HEALTHBOT_SESSION_KEY", "RASA_API_TOKEN", "HEALTHBOT_ACTION_TOKEN"}
    Fernet(made["HEALTHBOT_ENCRYPTION_KEY"].encode())  # a usable key
    assert len(set(made.values())) == len(made)  # each key its own
    assert len(made["RASA_API_TOKEN"]) >= 40
    assert local_secrets(settings) == made  # the same after a restart
    assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600
    configured = replace(settings, pseudonym_key="p", encryption_key="e", session_key="s",
                         rasa_api_token="t", action_token="a")
    assert local_secrets(configured) == {}


def test_a_message_sid_is_received_once(engine: Engine) -> None:
    store.remember_number(engine, "sms-a", "token", T0)
    assert store.receive(engine, "SM1", "sms-a", "hei", 0, T0)
    assert not store.receive(engine, "SM1", "sms-a", "hei", 0, T0)
    claimed = store.claim_inbound(engine, T0, timedelta(minutes=5))
    assert [inbound.message_sid for inbound in claimed] == ["SM1"]
    assert store.claim_inbound(engine, T0, timedelta(minutes=5)) == []  # claimed already
    later = T0 + timedelta(minutes=6)  # the claiming process died
    assert [i.body for i in store.claim_inbound(engine, later, timedelta(minutes=5))] == ["hei"]
    store.mark_processed(engine, "SM1", later)
    assert store.claim_inbound(engine, later + timedelta(hours=1), timedelta(minutes=5)) == []
    with engine.connect() as conn:
        assert conn.execute(select(store.sms_inbound.c.body)).scalar_one() == ""


def test_the_outbox_keeps_each_numbers_order_through_retries(engine: Engine) -> None:
    lease = timedelta(seconds=60)
    first, second = store.enqueue(engine, "sms-a", [("1", 1, "GSM-7"), ("2", 1, "GSM-7")], T0)
    (other,) = store.enqueue(engine, "sms-b", [("b", 1, "GSM-7")], T0)
    assert [row.id for row in store.claim_due(engine, T0, lease)] == [first, other]
    store.mark_retry(engine, first, "HTTP 500", T0 + timedelta(seconds=5))
    store.mark_sent(engine, other, "SMb", T0)
    assert store.claim_due(engine, T0 + timedelta(seconds=1), lease) == []  # "2" waits for "1"
    (retried,) = store.claim_due(engine, T0 + timedelta(seconds=5), lease)
    assert (retried.id, retried.attempts) == (first, 1)
    # The sender crashed while sending: after the lease the row is due again.
    assert store.claim_due(engine, T0 + timedelta(seconds=30), lease) == []
    (again,) = store.claim_due(engine, T0 + timedelta(seconds=70), lease)
    assert again.id == first
    store.mark_sent(engine, first, "SM1", T0 + timedelta(seconds=70))
    assert [row.id for row in store.claim_due(engine, T0 + timedelta(seconds=71), lease)] == \
        [second]
    store.mark_failed(engine, second, "HTTP 400 code 21211")
    assert store.outbox_counts(engine) == {"pending": 0, "sending": 0, "sent": 2, "failed": 1}


def test_a_number_keeps_its_language_and_opt_out(engine: Engine) -> None:
    state = store.remember_number(engine, "sms-a", "token-1", T0)
    assert (state.language, state.opted_out, state.options) == (None, False, [])
    store.update_number(engine, "sms-a", T0, language="sv", opted_out=True,
                        options=[{"title": "Ja", "payload": "/affirm"}])
    again = store.remember_number(engine, "sms-a", "token-2", T0)
    assert (again.language, again.opted_out) == ("sv", True)
    assert again.number_encrypted == "token-1"
    assert again.options == [{"title": "Ja", "payload": "/affirm"}]
