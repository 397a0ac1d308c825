"""Users, API tokens, passwords and consultation membership."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Role
from app.errors import AlreadyExists, NotFound
from app.users.models import ApiToken, Membership, User

TOKEN_PREFIX = "cst_"
_password_hasher = PasswordHasher()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    role: Role,
    name: str = "",
    password: str | None = None,
) -> tuple[User, str]:
    """Creates the user and a first API token; the token is returned once and stored hashed."""
    email = email.strip().lower()
    if await session.scalar(select(User.id).where(User.email == email)):
        raise AlreadyExists(f"A user with email {email} already exists.")
    user = User(
        email=email,
        role=role,
        name=name,
        password_hash=_password_hasher.hash(password) if password else None,
    )
    session.add(user)
    await session.flush()
    token = await issue_token(session, user_id=user.id, label="created with the user")
    return user, token


async def issue_token(session: AsyncSession, *, user_id: uuid.UUID, label: str = "") -> str:
    token = new_token()
    session.add(ApiToken(user_id=user_id, token_hash=hash_token(token), label=label))
    await session.flush()
    return token


async def user_for_token(session: AsyncSession, *, token: str) -> User | None:
    row = await session.execute(
        select(User, ApiToken.id)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    )
    found = row.first()
    if found is None:
        return None
    user, token_id = found
    await session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=datetime.now(UTC))
    )
    return user


async def user_for_password(session: AsyncSession, *, email: str, password: str) -> User | None:
    user = await session.scalar(
        select(User).where(User.email == email.strip().lower(), User.is_active.is_(True))
    )
    if user is None or not user.password_hash:
        # Spend the same time as a real check, so unknown emails are not revealed by timing.
        _password_hasher.hash(password)
        return None
    try:
        _password_hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


async def get_user(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def set_password(session: AsyncSession, *, email: str, password: str) -> None:
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No user with email {email}.")
    user.password_hash = _password_hasher.hash(password)
    await session.flush()


async def add_membership(
    session: AsyncSession, *, user_id: uuid.UUID, consultation_id: uuid.UUID
) -> None:
    exists = await session.get(Membership, (user_id, consultation_id))
    if exists is None:
        session.add(Membership(user_id=user_id, consultation_id=consultation_id))
        await session.flush()


async def is_member(session: AsyncSession, *, user: User, consultation_id: uuid.UUID) -> bool:
    if user.role == Role.admin:
        return True
    return await session.get(Membership, (user.id, consultation_id)) is not None


async def list_users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.created_at)))
