"""Names from `domain.yml` that more than one module uses: the dialogue policy, the
actions, the handoff domain and the channels each spell them here, so that a rename
is this file and the domain, not a search for string literals. (A name only one
module uses stays beside its use.)"""

from __future__ import annotations

#: The conversation's language ("fi", "sv", "en"...): set by the slot step after every
#: message; response variations are conditioned on it.
LANGUAGE_SLOT = "language"
#: The open handoff ticket's id while a nurse has the conversation, else None.
HANDOFF_SLOT = "handoff_ticket"
#: The latest triage result ({"topic", "level", "answers"}), quoted in a ticket.
LAST_TRIAGE_SLOT = "last_triage"
#: The latest unit the resident asked about: offered first, and named in triage advice.
LAST_CLINIC_SLOT = "last_clinic"

#: Opens a ticket and pauses the bot.
HANDOFF_ACTION = "action_handoff"
#: Relays each message of a paused conversation into its ticket.
HANDOFF_RELAY_ACTION = "action_handoff_relay"

#: "We do not serve this language; these eight we do": once per conversation.
UNSUPPORTED_LANGUAGE_RESPONSE = "utter_language_unsupported"

#: The bot's word that the nurse has closed the conversation and the bot is back.
HANDOFF_CLOSED_RESPONSE = "utter_handoff_closed"
