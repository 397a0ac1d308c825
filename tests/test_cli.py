"""The `consult` command line, run as a user runs it (a subprocess on the test database)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg

from app.users.service import hash_token


def consult(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_users_create_prints_a_working_token_once(database_url: str) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@example.org"
    result = consult(
        "users", "create", "--role", "analyst", "--email", email, database_url=database_url
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("cst_") and len(token) > 40
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT t.token_hash, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE u.email = %s",
            (email,),
        ).fetchall()
        conn.execute("DELETE FROM users WHERE email = %s", (email,))
        conn.commit()
    assert len(stored) == 1 and stored[0][1] == "analyst"
    # Only the hash is kept, and it is the hash bearer authentication looks up.
    assert stored[0][0] == hash_token(token) and token not in stored[0][0]


def test_duplicate_user_is_a_clear_error(database_url: str) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@example.org"
    try:
        assert (
            consult(
                "users", "create", "--role", "admin", "--email", email, database_url=database_url
            ).returncode
            == 0
        )
        again = consult(
            "users", "create", "--role", "admin", "--email", email, database_url=database_url
        )
        assert again.returncode == 1
        assert "already exists" in again.stderr
    finally:
        with psycopg.connect(database_url) as conn:
            conn.execute("DELETE FROM users WHERE email = %s", (email,))


def test_bad_role_names_the_option(database_url: str) -> None:
    result = consult(
        "users", "create", "--role", "wizard", "--email", "x@example.org", database_url=database_url
    )
    assert result.returncode == 2
    assert "--role" in result.stderr and "wizard" in result.stderr


def test_db_upgrade_is_idempotent(database_url: str) -> None:
    result = consult("db", "upgrade", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "upgraded to head" in result.stdout
