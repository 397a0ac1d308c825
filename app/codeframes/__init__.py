"""Versioned codeframes (the themes of a proposal)."""
