"""Typed settings, read from the environment (prefix CONSULT_, plus DATABASE_URL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSULT_", extra="ignore")

    # Unset: an embedded PostgreSQL (pgserver) is started under data_dir.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CONSULT_DATABASE_URL")
    )
    data_dir: Path = Path(".consult")
    # Signs session cookies; generated once and kept in data_dir when unset.
    secret_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    max_body_bytes: int = 1_000_000
    # File imports (POST .../imports); `consult import` has no limit.
    max_upload_bytes: int = 200_000_000
    max_answer_chars: int = 20_000
    # Per client address, per process; 0 disables (benchmarks on loopback).
    submissions_per_minute: int = 30
    secure_cookies: bool = False
    db_pool_size: int = 10


@lru_cache
def get_settings() -> Settings:
    return Settings()
