"""Rasa SDK actions: thin adapters from the action server to the `bot` library."""
