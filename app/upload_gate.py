"""Uploads from callers who may not upload are refused before their body is read.

FastAPI reads a multipart body before any dependency runs, so the sign-in and role checks of
an upload route would only answer after the whole file arrived (an anonymous client could push
100 MB at us for its 401). This middleware looks at the credentials first: no live session or
token answers 401 at once; a dataset upload from a role that may not train answers 403. What
passes is parsed by Starlette, which spools each file to disk past 1 MB.
"""

import json

import anyio

from app.auth import service as auth_service
from app.auth.models import Role
from app.security import SESSION_COOKIE, _cookie

DATASET_UPLOADS = ("/api/datasets", "/lab/datasets")


def _bearer(headers) -> str | None:
    value = next((v.decode("latin-1") for k, v in headers if k == b"authorization"), "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class UploadGate:
    """Refuses multipart requests without a live session or token before reading their body."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        if not content_type.startswith(b"multipart/form-data"):
            return await self.app(scope, receive, send)
        role = await anyio.to_thread.run_sync(self._role, scope)
        if role is None:
            return await self._refuse(scope, send, 401, "Sign in first.")
        if scope["path"].rstrip("/") in DATASET_UPLOADS and role not in (Role.learner, Role.admin):
            return await self._refuse(scope, send, 403, "Only a learner can do this.")
        await self.app(scope, receive, send)

    def _role(self, scope) -> Role | None:
        """The caller's role from its session cookie or bearer token, or None."""
        headers = scope["headers"]
        token, session = _bearer(headers), _cookie(headers, SESSION_COOKIE)
        if not token and not session:
            return None
        with scope["app"].state.sessionmaker() as db:
            if token:
                user = auth_service.user_for_api_token(db=db, raw_token=token)
            else:
                user = auth_service.user_for_session(db=db, raw_token=session)
            return user.role if user is not None else None

    async def _refuse(self, scope, send, status: int, detail: str):
        if status == 401 and not scope["path"].startswith("/api/"):  # a browser: to the sign-in form
            headers = [(b"location", b"/login"), (b"connection", b"close")]
            await send({"type": "http.response.start", "status": 303, "headers": headers})
            return await send({"type": "http.response.body", "body": b""})
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})
