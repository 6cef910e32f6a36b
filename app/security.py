"""Pure ASGI middleware: security headers, the CSRF seed cookie, the request body cap."""

import json
import secrets

from starlette.exceptions import HTTPException

from app.csrf import CSRF_COOKIE, csrf_token_for

SESSION_COOKIE = "loraface_session"  # the same name app.auth.dependencies sets

# htmx is configured (meta htmx-config) with allowEval false, so no 'unsafe-eval' either.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def _cookie(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


class SecurityMiddleware:
    """Adds security headers, gives each browser a CSRF seed cookie, caps request bodies."""

    def __init__(self, app, *, secret_key: str, max_body_bytes: int, hsts_seconds: int = 0):
        self.app = app
        self.secret_key = secret_key
        self.max_body_bytes = max_body_bytes
        self.hsts_seconds = hsts_seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = scope["headers"]
        seed = _cookie(headers, CSRF_COOKIE)
        new_seed = None
        if not seed or len(seed) > 100:
            seed = new_seed = secrets.token_urlsafe(24)
        state = scope.setdefault("state", {})
        state["csrf_seed"] = seed
        state["csrf_token"] = csrf_token_for(self.secret_key, seed)
        secure = scope.get("scheme") == "https"
        signed_in = _cookie(headers, SESSION_COOKIE) is not None or any(
            k == b"authorization" for k, _ in headers
        )

        length = next((v for k, v in headers if k == b"content-length"), None)
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await self._too_large(scope, send)
            return

        received = 0

        async def capped_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                present = {k.lower() for k, _ in out}
                out += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                out += self._transport_and_cache_headers(out, present, secure=secure, signed_in=signed_in)
                if new_seed is not None:
                    cookie = f"{CSRF_COOKIE}={new_seed}; Path=/; HttpOnly; SameSite=Lax"
                    if secure:
                        cookie += "; Secure"
                    out.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": out}
            await send(message)

        try:
            await self.app(scope, capped_receive, send_with_headers)
        except BodyTooLarge:
            await self._too_large(scope, send_with_headers)

    def _transport_and_cache_headers(self, out, present, *, secure: bool, signed_in: bool):
        """HSTS over https (when set); no-store on a signed-in page or JSON answer that sets no
        caching of its own (user files keep their private caching)."""
        extra = []
        if secure and self.hsts_seconds > 0 and b"strict-transport-security" not in present:
            extra.append((b"strict-transport-security", f"max-age={self.hsts_seconds}".encode()))
        content_type = next((v for k, v in out if k.lower() == b"content-type"), b"")
        personal = content_type.startswith((b"text/html", b"application/json"))
        if signed_in and personal and b"cache-control" not in present:
            extra.append((b"cache-control", b"no-store"))
        return extra

    async def _too_large(self, scope, send):
        limit_mb = self.max_body_bytes // (1024 * 1024)
        body = json.dumps({"detail": f"The upload is too large (the limit is {limit_mb} MB)."})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), *SECURITY_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


class BodyTooLarge(HTTPException):
    """The streamed body passed the cap (an HTTPException so FastAPI's body parser re-raises it)."""

    def __init__(self, limit_bytes: int = 0):
        limit_mb = limit_bytes // (1024 * 1024)
        super().__init__(413, f"The upload is too large (the limit is {limit_mb} MB).")
