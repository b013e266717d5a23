"""`refine`: FastAPI's OpenAPI document rewritten for client generators, with the tables
of api/openapi/tables.py (api/openapi/__init__.py lists what changes)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter

from api.core.enums import LABELS
from api.core.errors import CODES, PROBLEM_MEDIA_TYPE
from api.openapi.tables import (
    ACCEPT_LANGUAGE,
    CONCURRENT,
    CONFLICTS,
    DESCRIPTIONS,
    EXAMPLE_INSTANCE,
    HEADERS,
    IN_FLIGHT,
    METHODS,
    NOT_FOUND,
    PAGE_NAME,
    REF,
    RENAMES,
    SECURITY_SCHEME,
    SERVERS,
    SUMMARIES,
    TAGS,
    TOKEN_ERRORS,
    TOKEN_URL,
    UNPROCESSABLE,
)
from api.schemas.reports import TransitionRequest
from api.schemas.roster import RosterSyncIn


def refine(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite FastAPI's document in place (see the module docstring) and return it."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _rename_schemas(schema, schemas)
    _transition_variants(schema, schemas)
    _add_model(schemas, "RosterSyncIn", RosterSyncIn)
    _grant_variants(schemas)
    _bodies_and_files(schema)
    _enums(schema, schemas)
    _security(schema)
    components["headers"] = {_header_key(n): h for n, h in HEADERS.items()}
    components["parameters"] = {"AcceptLanguage": ACCEPT_LANGUAGE}
    shared_examples: dict[str, Any] = {}
    versioned = {n for n, s in schemas.items() if "version" in s.get("properties", {})}
    for path, method, operation in operations(schema):
        _describe(operation)
        _parameters_and_headers(operation, versioned)
        _problems(path, method, operation, shared_examples)
    components["examples"] = dict(sorted(shared_examples.items()))
    schema["tags"] = TAGS
    _prune(schema, schemas)
    return schema


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _rename_schemas(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    renames = dict(RENAMES)
    for name in schemas:
        if name not in renames and (match := PAGE_NAME.match(name)):
            renames[name] = match.group(1) + "Page"
    for old, new in renames.items():
        if old in schemas:
            body = schemas.pop(old)
            body["title"] = new
            schemas[new] = body
    for node in _walk(schema):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF) and ref[len(REF) :] in renames:
            node["$ref"] = REF + renames[ref[len(REF) :]]


def _add_model(schemas: dict[str, Any], name: str, model: Any) -> dict[str, Any]:
    """A model's JSON schema as a component (with the models it refers to)."""
    model_schema = TypeAdapter(model).json_schema(ref_template=REF + "{model}")
    for def_name, definition in model_schema.pop("$defs", {}).items():
        schemas.setdefault(def_name, definition)
    schemas[name] = model_schema
    return model_schema


def _transition_variants(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The transition body as a discriminated `oneOf` of complete variants; the server
    still reads it as TransitionIn (one model), whose rules are the same."""
    adapter_schema = _add_model(schemas, "TransitionRequest", TransitionRequest)
    adapter_schema["title"] = "TransitionRequest"
    adapter_schema["examples"] = [
        example
        for variant in adapter_schema["oneOf"]
        for example in schemas[variant["$ref"][len(REF) :]].get("examples", [])
    ]
    adapter_schema["description"] = (
        "The move to make, by target status (`to`): `escalated` needs `authority` and "
        "`reference`, `resolved` needs `outcome`, the others neither. Whether the move is "
        "allowed depends on the report and the caller (409 `invalid_transition`); "
        "`allowed_transitions` on a report read lists them."
    )
    for node in _walk(schema.get("paths", {})):
        if node.get("$ref") == REF + "TransitionIn":
            node["$ref"] = REF + "TransitionRequest"


def _grant_variants(schemas: dict[str, Any]) -> None:
    """GrantIn's two anonymous branches (api/schemas/users.py) as named variants with a
    discriminator on `role`, so that generators name them."""
    grant = schemas.get("GrantIn", {})
    branches = grant.get("anyOf", [])
    if len(branches) != 2:
        return
    names = {"AdminGrantIn": branches[0], "ScopedGrantIn": branches[1]}
    descriptions = {
        "AdminGrantIn": "An admin grant: everywhere (a `unit_id` is ignored).",
        "ScopedGrantIn": "A grant on a unit and its subtree.",
    }
    mapping: dict[str, str] = {}
    for name, branch in names.items():
        schemas[name] = {"title": name, "description": descriptions[name], **branch}
        role = branch["properties"]["role"]
        for value in role.get("enum", [role.get("const")]):
            mapping[value] = REF + name
    schemas["GrantIn"] = {
        "title": "GrantIn",
        "description": "A (role, unit) grant; the unit's whole subtree is the scope.",
        "oneOf": [{"$ref": REF + name} for name in names],
        "discriminator": {"propertyName": "role", "mapping": mapping},
    }


def _bodies_and_files(schema: dict[str, Any]) -> None:
    for _path, _method, operation in operations(schema):
        body = operation.get("requestBody", {})
        for media, content in body.get("content", {}).items():
            branches = content.get("schema", {}).get("anyOf")
            if branches and {"type": "null"} in branches:
                # An optional body is absent or the object: never JSON `null`.
                rest = [b for b in branches if b != {"type": "null"}]
                if len(rest) == 1:
                    content["schema"] = rest[0]
            if media == "multipart/form-data":
                for node in _walk(content):
                    if "contentMediaType" in node and node.get("type") == "string":
                        node["format"] = "binary"
                        del node["contentMediaType"]
        for response in operation.get("responses", {}).values():
            for media, content in response.get("content", {}).items():
                if not media.endswith("json") and "schema" not in content:
                    content["schema"] = {"type": "string", "format": "binary"}
    schemas = schema["components"]["schemas"]
    for model in schemas.values():
        for prop in model.get("properties", {}).values():
            if "contentMediaType" in prop and prop.get("type") == "string":
                prop["format"] = "binary"
                del prop["contentMediaType"]


def _label_table(labels: dict[str, tuple[str, str]]) -> str:
    rows = "\n".join(f"| `{code}` | {vi} | {en} |" for code, (vi, en) in labels.items())
    return f"| code | vi | en |\n|---|---|---|\n{rows}"


def _enums(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Every enumeration of LABELS as a component with its labels; `grant_type` uses one."""
    for name, (enum, labels) in LABELS.items():
        component = schemas.setdefault(
            enum.__name__,
            {"type": "string", "enum": [m.value for m in enum], "title": enum.__name__},
        )
        own_doc = enum.__doc__ if enum.__doc__ != StrEnum.__doc__ else None
        intro = inspect.cleandoc(own_doc or "")
        component["description"] = (
            (intro + "\n\n" if intro else "")
            + f"Labels (also `GET /api/v1/meta/enums`, `{name}`):\n\n"
            + _label_table(labels)
        )
        component["x-enum-labels"] = {
            code: {"vi": vi, "en": en} for code, (vi, en) in labels.items()
        }
    token = schemas.get("TokenRequest", {}).get("properties", {})
    if "grant_type" in token:
        token["grant_type"] = {"$ref": REF + "GrantType"}


def _security(schema: dict[str, Any]) -> None:
    components = schema["components"]
    old = components.get("securitySchemes", {})
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "oauth2",
            "description": "Bearer JWTs from `POST /api/v1/auth/token`: users with the password "
            "flow (with a rotating refresh token), API clients with client credentials.",
            "flows": {
                "password": {"tokenUrl": TOKEN_URL, "refreshUrl": TOKEN_URL, "scopes": {}},
                "clientCredentials": {"tokenUrl": TOKEN_URL, "refreshUrl": TOKEN_URL, "scopes": {}},
            },
        }
    }
    for _path, _method, operation in operations(schema):
        if any(set(s) & set(old) for s in operation.get("security", [])):
            operation["security"] = [{SECURITY_SCHEME: []}]
        else:
            operation["security"] = []
    schema["servers"] = SERVERS


def _describe(operation: dict[str, Any]) -> None:
    op_id = operation["operationId"]
    if op_id in SUMMARIES:
        operation["summary"] = SUMMARIES[op_id]
    if not operation.get("description") and op_id in DESCRIPTIONS:
        operation["description"] = DESCRIPTIONS[op_id]


def _header_key(name: str) -> str:
    return name.replace("-", "")


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{_header_key(name)}"}


def _parameters_and_headers(operation: dict[str, Any], versioned: set[str]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name", "").lower() == "accept-language" for p in parameters):
        parameters.append({"$ref": "#/components/parameters/AcceptLanguage"})
    names = {p.get("name") for p in parameters}
    for status, response in operation.get("responses", {}).items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _header("X-Request-ID")
        if status.startswith("2"):
            content = response.get("content", {})
            body = content.get("application/json", {}).get("schema", {})
            refs = [b.get("$ref", "") for b in body.get("anyOf", [body])]
            if all(ref[len(REF) :] in versioned for ref in refs):  # one object: its ETag is sent
                headers["ETag"] = _header("ETag")
            if status == "201":
                headers["Location"] = _header("Location")
            if "Idempotency-Key" in names:
                headers["Idempotent-Replayed"] = _header("Idempotent-Replayed")
            if any(not m.endswith("json") for m in content):
                headers["Content-Disposition"] = _header("Content-Disposition")
        else:
            headers["Content-Language"] = _header("Content-Language")
        if status == "401":
            headers["WWW-Authenticate"] = _header("WWW-Authenticate")
        if status in ("429", "503"):
            headers["Retry-After"] = _header("Retry-After")
        if status == "429":
            headers["RateLimit"] = _header("RateLimit")
            headers["RateLimit-Policy"] = _header("RateLimit-Policy")


def _codes(path: str, method: str, operation: dict[str, Any], status: str) -> list[tuple[str, str]]:
    op_id = operation["operationId"]
    names = {p.get("name") for p in operation.get("parameters", [])}
    token = path.startswith("/api/v1/auth/") and op_id != "auth-me"
    meaning = {code: CODES[code][2] for code in CODES}
    if status == "400":
        if op_id == "auth-token":
            return [
                (c, meaning[c]) for c in ("invalid_grant", "unsupported_grant_type", "bad_request")
            ]
        media = operation.get("requestBody", {}).get("content", {})
        return (
            [("invalid_json", "the body is not JSON")]
            if "application/json" in media
            else [("bad_request", "the body cannot be parsed")]
        )
    if status == "401":
        if token:
            return [("invalid_client", "unknown client or wrong secret")]
        return [
            ("unauthorized", "no bearer token"),
            ("invalid_token", "the token is malformed, expired or revoked"),
        ]
    if status == "409":
        found = dict(CONFLICTS.get(op_id, []))
        if method != "get" or not found:
            code, why = CONCURRENT
            found[code] = f"{found[code]}; or {why}" if code in found else why
        if "Idempotency-Key" in names:
            found[IN_FLIGHT[0]] = IN_FLIGHT[1]
        return list(found.items())
    if status == "422":
        codes = ["validation_failed", *UNPROCESSABLE.get(op_id, [])]
        if "cursor" in names:
            codes.append("invalid_cursor")
        if "Idempotency-Key" in names:
            codes.append("idempotency_key_mismatch")
        return [(c, meaning[c]) for c in codes]
    if status == "404":
        codes = ["not_found", *NOT_FOUND.get(op_id, [])]
        return [(c, meaning[c]) for c in codes]
    by_status = {
        "403": "forbidden",
        "412": "version_mismatch",
        "413": "payload_too_large",
        "415": "unsupported_media_type",
        "429": "rate_limited",
        "503": "service_unavailable",
    }
    if status in by_status:
        code = by_status[status]
        return [(code, meaning[code])]
    return []


def _example(code: str, detail: str, path: str, token: bool) -> dict[str, Any]:
    status, _vi, en = CODES[code]
    value: dict[str, Any] = {
        "type": f"https://qd85.vn/problems/{code}",
        "title": en,
        "status": status,
        "detail": detail[:1].upper() + detail[1:] + ".",
        "instance": path,
        "code": code,
        "request_id": "3f2b8c1e9a7d4e60",
    }
    if token and code in TOKEN_ERRORS:
        value["error"] = TOKEN_ERRORS[code]
    return {"summary": f"{code}: {detail}", "value": value}


def _problems(path: str, method: str, operation: dict[str, Any], shared: dict[str, Any]) -> None:
    """Codes, descriptions and examples of the problem responses. An example that means
    the same everywhere (a code with its usual meaning) is one `components/examples`
    entry; the 409s and the token endpoint's are the operation's own."""
    token = path == "/api/v1/auth/token"
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if PROBLEM_MEDIA_TYPE not in content or not (
            codes := _codes(path, method, operation, status)
        ):
            continue
        if status == "409":  # what conflicts, specifically
            listed = "; or ".join(f"{m} (`{c}`)" for c, m in codes)
            response["description"] = f"Conflict: {listed}."
        else:
            listed = "; ".join(f"`{c}` ({m})" for c, m in codes)
            response["description"] = (
                f"{response.get('description', 'Error')}. Problem codes: {listed}."
            )
        examples: dict[str, Any] = {}
        for code, meaning in codes:
            example = _example(code, meaning, path, token)
            if status != "409" and not token:
                if code not in shared:
                    example["value"]["instance"] = EXAMPLE_INSTANCE
                    shared[code] = example
                if shared[code]["summary"] == example["summary"]:
                    examples[code] = {"$ref": f"#/components/examples/{code}"}
                    continue
            examples[code] = example
        content[PROBLEM_MEDIA_TYPE]["examples"] = examples
        response["x-problem-codes"] = [c for c, _ in codes]


def _prune(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Drop the components no longer referenced (TransitionIn, FastAPI's leftovers)."""
    while True:
        refs = {
            node["$ref"][len(REF) :]
            for node in _walk({k: v for k, v in schema.items() if k != "components"})
            if isinstance(node.get("$ref"), str) and node["$ref"].startswith(REF)
        }
        for name, body in schemas.items():
            refs |= {
                node["$ref"][len(REF) :]
                for node in _walk(body)
                if isinstance(node.get("$ref"), str)
                and node["$ref"].startswith(REF)
                and node["$ref"][len(REF) :] != name
            }
        unused = [name for name in schemas if name not in refs]
        if not unused:
            return
        for name in unused:
            del schemas[name]
