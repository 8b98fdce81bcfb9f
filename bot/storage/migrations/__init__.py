"""Alembic migration environment; a package so that it ships with `bot`."""
