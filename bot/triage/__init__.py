"""Safety and urgency: the deterministic red-flag layer (symptom triage comes later)."""
