"""Clinic directory and opening hours."""
