"""Dialogue pieces that must not depend on machine learning."""
