"""JSON routes take their inputs as declared: an unknown query parameter and a JSON `true` where a
number is declared (or a number or string where a boolean is) answer 422, not a silent guess.
The body check compares what was sent with what the model made of it, field by field.

A misspelt filter (`/api/feed?lessn=3`) silently ignored returns the unfiltered list, which a
script then takes as the filtered one; `{"steps": true}` read as 1 step is no better. Both checks
read the route's own declaration (its parameters, its dependencies', its body model), so a new
route needs nothing extra. Pages keep their lax form parsing (browsers send "on" and "5").
"""

import json

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

CACHE_BUSTERS = frozenset({"v", "_"})  # ?v=<version> on file URLs changes the URL, not the answer
_known: dict[int, frozenset[str]] = {}  # by id(route): routes live as long as the app
_adapters: dict[int, TypeAdapter | None] = {}


def _known_query(route) -> frozenset[str]:
    if id(route) not in _known:
        _known[id(route)] = _declared_query(route)
    return _known[id(route)]


def _declared_query(route) -> frozenset[str]:
    names, pending = set(), [route.dependant]
    while pending:  # the route's own parameters and those of every dependency it declares
        dependant = pending.pop()
        for field in dependant.query_params:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # a Query() model
                names |= {f.alias or n for n, f in annotation.model_fields.items()}
            names.add(field.alias or field.name)
        pending.extend(dependant.dependencies)
    return frozenset(names)


def _body_adapter(route) -> TypeAdapter | None:
    if id(route) not in _adapters:
        field = getattr(route, "body_field", None)
        _adapters[id(route)] = TypeAdapter(field.field_info.annotation) if field is not None else None
    return _adapters[id(route)]


def _mixups(given, taken, loc: tuple) -> list[dict]:
    """Where a boolean was read as a number, or a number or string as a boolean."""
    if isinstance(given, bool) and isinstance(taken, int | float) and not isinstance(taken, bool):
        return [{"loc": loc, "msg": "a number is needed, not true or false", "type": "int_type"}]
    if isinstance(taken, bool) and not isinstance(given, bool):
        return [{"loc": loc, "msg": "true or false is needed", "type": "bool_type"}]
    if isinstance(given, dict) and isinstance(taken, dict):
        return [e for k in given.keys() & taken.keys() for e in _mixups(given[k], taken[k], (*loc, k))]
    if isinstance(given, list) and isinstance(taken, list | tuple):
        return [
            e for i, (g, t) in enumerate(zip(given, taken, strict=False)) for e in _mixups(g, t, (*loc, i))
        ]
    return []


def _refuse(errors: list[dict]) -> None:
    raise RequestValidationError(errors)


async def _check_json_types(request: Request, route) -> None:
    adapter = _body_adapter(route)
    if adapter is None or not request.headers.get("content-type", "").startswith("application/json"):
        return
    try:
        data = json.loads(await request.body() or b"null")  # cached: the route reads the same bytes
        taken = adapter.dump_python(adapter.validate_python(data), by_alias=True, mode="python")
    except (ValueError, ValidationError):
        return  # invalid either way: the route's own validation answers
    wrong = _mixups(data, taken, ("body",))
    if wrong:
        _refuse(wrong)


async def refuse_loose_api_input(request: Request) -> None:
    """App-wide dependency: 422 for an unknown query parameter or a boolean/number mix-up."""
    route = request.scope.get("route")
    if route is None or not request.url.path.startswith("/api/") or not hasattr(route, "dependant"):
        return
    unknown = sorted(set(request.query_params) - _known_query(route) - CACHE_BUSTERS)
    if unknown:
        _refuse(
            [
                {
                    "loc": ("query", n),
                    "msg": "this query parameter is not known here",
                    "type": "extra_forbidden",
                }
                for n in unknown
            ]
        )
    if request.method in ("POST", "PUT", "PATCH"):
        await _check_json_types(request, route)
