"""Codings and stances: append-only decisions about answers."""
