"""Who is calling: bearer token for the API, session cookie for pages; role checks."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from app.db import SessionDep
from app.enums import Role
from app.errors import Forbidden, NotAuthenticated
from app.users import service
from app.users.models import User


async def optional_user(request: Request, session: SessionDep) -> User | None:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <token>'.")
        user = await service.user_for_token(session, token=token.strip())
        if user is None:
            raise NotAuthenticated("The token is invalid or revoked.")
        return user
    user_id = request.session.get("user_id") if "session" in request.scope else None
    if user_id:
        user = await service.get_user(session, user_id=uuid.UUID(user_id))
        if user is not None and user.is_active:
            return user
    return None


OptionalUser = Annotated[User | None, Depends(optional_user)]


async def current_user(user: OptionalUser) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"This needs the role {' or '.join(r.value for r in roles)}.")
        return user

    return check


AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
AnalystUser = Annotated[User, Depends(require_roles(Role.admin, Role.analyst))]
StaffUser = Annotated[User, Depends(require_roles(Role.admin, Role.analyst, Role.reviewer))]
