"""Machine translation with Argos Translate, offline (SPEC: Languages, pivot English)."""
