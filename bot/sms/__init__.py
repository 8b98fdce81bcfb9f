"""SMS as a channel: what happens to a received message (`inbound`), the outbox and
its sender (`outbox`, `gateway`), how a reply is written for a phone (GSM-7 or UCS-2
segments, numbered options), the opt-out keywords, and the privacy of phone numbers."""
