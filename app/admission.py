"""Admission control: at most `limit` requests are inside the app at once; the rest wait on an
asyncio semaphore, holding neither a thread nor a database connection.

Why: a sync route and its sync dependencies run in separate thread-pool hops, and a request
keeps its session's connection between them. Without a cap, a burst (200 browsers polling a
job) fills the thread pool with requests waiting for a connection while the connections are
held by requests waiting for a thread, and everything stalls until the pool's timeout. With
fewer requests inside than connections in the pool (db.POOL_MAX) and threads in the limiter,
that cannot happen. A slot is given back as soon as the response starts: by then the request's
session is closed (DbSession closes when the route returns), so a slow download holds no slot.
Static files bypass the cap."""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AdmissionLimit:
    def __init__(self, app: ASGIApp, *, limit: int):
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        slots = self._slots
        await slots.acquire()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                slots.release()

        async def send_then_release(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            await self.app(scope, receive, send_then_release)
        finally:
            release()
