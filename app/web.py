"""Templates, the one render helper (full page or htmx fragment), flash messages, redirects."""

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import pass_context
from markupsafe import Markup

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
FLASH_COOKIE = "loraface_flash"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Templates ship with the code: no stat() of every template file on every render.
templates.env.auto_reload = False


@pass_context
def _url_for(context: dict, name: str, /, **path_params: Any) -> str:
    """url_for for templates, with static files answered without walking the routes (every
    page links a dozen of them; Starlette's lookup tries each route in turn)."""
    if name == "static":
        return f"/static/{path_params['path']}"
    return str(context["request"].url_for(name, **path_params))


templates.env.globals["url_for"] = _url_for


def is_htmx(request: Request) -> bool:
    """True for requests htmx made (and not a history restore, which needs the whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _flash_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.secret_key, salt="flash")


def flash(response, request: Request, message: str, category: str = "info") -> None:
    """Queue a message for the next page the browser renders."""
    messages = _read_flashes(request) + [{"message": message, "category": category}]
    response.set_cookie(
        FLASH_COOKIE,
        _flash_serializer(request).dumps(messages[-5:]),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def _read_flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        data = _flash_serializer(request).loads(raw)
    except BadSignature:
        return []
    return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []


def redirect(request: Request, url: str, message: str | None = None, category: str = "info"):
    """A 303 to url (HX-Redirect for htmx), optionally carrying a flash message."""
    if is_htmx(request):
        response = HTMLResponse("", status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, request, message, category)
    return response


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The whole page, or only `block` of it when htmx asked (the server picks the block)."""
    ctx: dict[str, Any] = {
        "request": request,
        "current_user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "flashes": _read_flashes(request),
    }
    ctx.update(context or {})
    tmpl = templates.get_template(template)
    if block and is_htmx(request):
        # A named block rendered on its own: the jinja2-fragments idea in three lines.
        block_ctx = tmpl.new_context(ctx)
        html = "".join(tmpl.blocks[block](block_ctx))
    else:
        html = tmpl.render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if ctx["flashes"]:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def _tojson_attr(value: Any) -> Markup:
    """JSON for an HTML attribute (hx-headers, hx-vals): escaped by autoescape, not by hand."""
    return json.dumps(value)


templates.env.filters["tojson_attr"] = _tojson_attr
