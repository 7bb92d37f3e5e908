"""The OpenAPI document as a contract for client generators.

FastAPI writes most of the document from the routes; `finish()` completes what it cannot know:
every error answer as problem+json, the response headers, the credentials an operation takes
(none for public reads), the servers, and exact integer bounds. Routes describe their own headers
with `header()` and `conditional_get()`.
"""

from __future__ import annotations

from typing import Any

from app.core.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# FastAPI's OpenAPI model holds schema bounds as floats; 2^63 - 1 comes out as 2^63.
BIGINT_MAX = 2**63 - 1
_FLOAT_OF_BIGINT_MAX = float(BIGINT_MAX)

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": (
            'The version of what was sent, e.g. "3" for a record. Send it back in If-Match to change '
            "that version, or in If-None-Match to be told 304 when nothing has changed."
        ),
        "schema": {"type": "string"},
    },
    "Location": {"description": "The path of the record created.", "schema": {"type": "string"}},
    "Link": {
        "description": 'RFC 8288 links to the first, prev, next and last pages: <url>; rel="next", ...',
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "format": "int32", "minimum": 0},
    },
    "Idempotent-Replayed": {
        "description": "true: this is the stored answer to an earlier request with this Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Vary": {
        "description": "Accept: the answer's format follows the Accept header (and the format parameter).",
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {"description": "The credentials the operation takes.", "schema": {"type": "string"}},
}

IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of your copy: 304 Not Modified, with no body, while it is still current.",
    "schema": {"type": "string"},
}

SECURITY_DESCRIPTIONS = {
    "OAuth2PasswordBearer": (
        "Staff: `Authorization: Bearer <token>`, the token from POST /api/v1/auth/token. Send one "
        "credential per request, this or an API key: both together are refused with 401."
    ),
    "APIKeyHeader": (
        "Machines: `X-API-Key: <key>`, a key an administrator created. Send one credential per "
        "request, this or a bearer token: both together are refused with 401."
    ),
}


def header(*names: str) -> dict[str, Any]:
    """The `headers` of a response entry, by reference to the shared definitions."""
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def conditional_get(description: str = "Successful Response") -> dict[str, Any]:
    """The route arguments of a GET answered with an ETag, and 304 for a current copy.

    If-None-Match is read from the request by the endpoint (a declared header parameter costs
    a validation on the hottest path), so the document gets it here.
    """
    return {
        "openapi_extra": {"parameters": [IF_NONE_MATCH]},
        "responses": {
            200: {"description": description, "headers": header("ETag")},
            304: {
                "description": "Not Modified: your copy (If-None-Match) is current.",
                "headers": header("ETag"),
            },
        },
    }


def finish(schema: dict[str, Any], *, servers: list[dict[str, str]]) -> dict[str, Any]:
    """Complete FastAPI's document in place (see the module's docstring) and return it."""
    schema["servers"] = servers
    components = schema.setdefault("components", {})
    components.setdefault("headers", {}).update(HEADERS)
    for name, scheme in components.get("securitySchemes", {}).items():
        if name in SECURITY_DESCRIPTIONS:
            scheme["description"] = SECURITY_DESCRIPTIONS[name]
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            _finish_operation(operation)
    _exact_integers(schema)
    return schema


def _finish_operation(operation: dict[str, Any]) -> None:
    # An operation that names no credential takes none: say so, rather than leave it unsaid.
    operation.setdefault("security", [])
    for parameter in operation.get("parameters", []):
        _not_nullable(parameter)
    responses = operation.setdefault("responses", {})
    if "requestBody" in operation:
        # app.core.bodies: a body in another media type than those listed is refused.
        accepted = ", ".join(operation["requestBody"].get("content", {})) or "application/json"
        responses.setdefault("415", {"description": f"Unsupported Media Type: send the body as {accepted}"})
    # Any operation can meet an unexpected failure, or a database that is away or slow.
    for status, description in (
        ("500", "Internal Server Error"),
        ("503", "Service Unavailable: the database is away or busy; retry after Retry-After seconds"),
        ("504", "Gateway Timeout: a query ran past its time limit; retry after Retry-After seconds"),
    ):
        responses.setdefault(status, {"description": description})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
        if status == "401":
            response.setdefault("headers", {}).update(header("WWW-Authenticate"))
        if status in {"429", "503", "504"}:
            response.setdefault("headers", {}).update(header("Retry-After"))


def _not_nullable(parameter: dict[str, Any]) -> None:
    """An optional query parameter is absent or a text: "null" is not a value it can have.
    Pydantic describes `X | None` as anyOf [X, null]; the parameter's schema is X alone."""
    schema = parameter.get("schema", {})
    options = schema.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return
    (kept,) = [option for option in options if option != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf" and v is not None}
    parameter["schema"] = {**kept, **rest}


def _exact_integers(node: Any) -> None:
    """Integer bounds written as integers again. A float bound below 2^53 is exact; above, the
    only one the models use is BIGINT's maximum, which a float cannot hold. Any other is refused
    here rather than published wrong."""
    if isinstance(node, list):
        for item in node:
            _exact_integers(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            value = node.get(key)
            if isinstance(value, float):
                node[key] = _exact(value)
    for value in node.values():
        _exact_integers(value)


def _exact(value: float) -> int:
    if abs(value) < 2**53 and value.is_integer():
        return int(value)
    if value == _FLOAT_OF_BIGINT_MAX:
        return BIGINT_MAX
    if value == -_FLOAT_OF_BIGINT_MAX:
        return -BIGINT_MAX - 1
    raise ValueError(f"an integer bound {value!r} that the document cannot write exactly")
