"""Domain library of the Helsinki health assistant: language, triage, storage, CLI."""
