"""Every unsafe route refuses a cookie-authenticated request without the CSRF token, and every
response carries the security headers. Routes are read from the app, so new ones are covered."""

import re

from fastapi.routing import APIRoute

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _walk(routes, prefix: str = ""):
    """Every APIRoute with its full path, through included routers at any depth."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # an included router
            context = getattr(route, "include_context", None)
            yield from _walk(route.original_router.routes, prefix + (getattr(context, "prefix", "") or ""))


def _routes(app, methods: set[str]):
    for path, route in _walk(app.routes):
        for method in sorted(route.methods & methods):
            yield method, path


def test_every_unsafe_route_needs_csrf_with_a_session_cookie(app, client_as):
    c = client_as("admin")  # the strongest role: CSRF must hold even where permissions would pass
    del c.headers["X-CSRF-Token"]
    checked = 0
    for method, path in _routes(app, UNSAFE):
        url = _concrete(path)
        if path.startswith("/api/"):
            response = c.request(method, url, json={})
        else:
            response = c.request(method, url, data={"field": "x"})
        assert response.status_code == 403, (
            f"{method} {path} answered {response.status_code} without a CSRF token"
        )
        checked += 1
    assert checked >= 8
    assert c.get("/api/me").status_code == 200  # nothing above signed us out or erased us


def test_every_page_and_endpoint_sends_security_headers(app, client_as):
    c = client_as("learner")
    for _, path in _routes(app, {"GET"}):
        response = c.get(_concrete(path))
        assert response.status_code < 500, f"GET {path} -> {response.status_code}"
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert response.headers.get("x-content-type-options") == "nosniff", path
        assert response.headers.get("referrer-policy") == "same-origin", path
