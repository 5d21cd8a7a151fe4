"""The OGC API's own definition in OpenAPI 3.0 (Features Part 1, class `oas30`), made from
the app's OpenAPI document each time it is asked for: FastAPI writes that document from the
routes (3.1, with JSON Schema 2020-12), so the /ogc paths here are always the routes served.

Nothing is written by hand but what FastAPI cannot know: the Basic credential GIS clients
send under /ogc (service/http/deps.py reads it). The rest is a conversion of 3.1 to 3.0:
3.0's Schema Object is an older, smaller dialect, and a 3.1 keyword left in would make the
document invalid (tests/ogc/test_conformance.py validates it with openapi-spec-validator).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi import FastAPI

PREFIX = "/ogc"
OAS30 = "3.0.3"
BASIC = "basicAccessToken"
# JSON Schema keywords 3.0's Schema Object does not have and that say nothing a 3.0 client
# could use (annotations and identifiers), dropped
_DROPPED = ("$schema", "$id", "$anchor", "$comment", "$defs", "contentEncoding")
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONES = ("items", "additionalProperties", "not")


def ogc_definition(app: FastAPI, server: str, title: str) -> dict[str, Any]:
    """The /ogc part of `app`'s OpenAPI document, in OpenAPI 3.0, served from `server`."""
    source = app.openapi()
    paths = {
        path: copy.deepcopy(item)
        for path, item in source["paths"].items()
        if path == PREFIX or path.startswith(PREFIX + "/")
    }
    components = source.get("components", {})
    schemes = copy.deepcopy(components.get("securitySchemes", {}))
    schemes[BASIC] = {
        "type": "http",
        "scheme": "basic",
        "description": "用户名与个人访问令牌(桌面 GIS 客户端)",
    }
    for item in paths.values():
        for operation in item.values():
            if "security" in operation:
                operation["security"] = [*operation["security"], {BASIC: []}]
    tags = sorted({tag for item in paths.values() for op in item.values() for tag in op["tags"]})
    document = {
        "openapi": OAS30,
        "info": {"title": title, "version": source["info"]["version"]},
        "servers": [{"url": server}],
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": _referenced(paths, components.get("schemas", {})),
            "securitySchemes": schemes,
        },
    }
    return _document_as_30(document)


def _referenced(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The component schemas the paths refer to, directly or through each other."""
    wanted: dict[str, Any] = {}
    todo = [paths]
    while todo:
        text = json.dumps(todo.pop())
        for name in schemas:
            if f'"#/components/schemas/{name}"' in text and name not in wanted:
                wanted[name] = copy.deepcopy(schemas[name])
                todo.append(wanted[name])
    return dict(sorted(wanted.items()))


def _document_as_30(document: dict[str, Any]) -> dict[str, Any]:
    """Every schema of the document in 3.0's dialect: of parameters, headers, bodies and
    responses, and the components'."""
    components = document["components"]
    components["schemas"] = {k: schema_as_30(v) for k, v in components["schemas"].items()}
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = schema_as_30(parameter["schema"])
            _contents_as_30(operation.get("requestBody", {}))
            for response in operation.get("responses", {}).values():
                _contents_as_30(response)
                for header in response.get("headers", {}).values():
                    header["schema"] = schema_as_30(header.get("schema", {}))
    return document


def _contents_as_30(holder: dict[str, Any]) -> None:
    for media in holder.get("content", {}).values():
        if "schema" in media:
            media["schema"] = schema_as_30(media["schema"])


def schema_as_30(schema: Any) -> Any:
    """A JSON Schema 2020-12 schema as an OpenAPI 3.0 Schema Object: a `null` type becomes
    `nullable`, `const` a one-value `enum`, `examples` one `example`, numeric
    `exclusiveMinimum`/`exclusiveMaximum` the boolean flags, `contentMediaType` a binary
    string; a `$ref` beside other keywords is wrapped in `allOf` (3.0 ignores its siblings)."""
    if not isinstance(schema, dict):
        return schema
    out = {k: v for k, v in schema.items() if k not in _DROPPED}
    for key in _SCHEMA_MAPS:
        if key in out:
            out[key] = {name: schema_as_30(s) for name, s in out[key].items()}
    for key in _SCHEMA_LISTS:
        if key in out:
            out[key] = [schema_as_30(s) for s in out[key]]
    for key in _SCHEMA_ONES:
        if isinstance(out.get(key), dict):
            out[key] = schema_as_30(out[key])
    if "prefixItems" in out:  # a tuple: 3.0 has no positions, only what every item may be
        out.setdefault("items", {"anyOf": out["prefixItems"]} if out["prefixItems"] else {})
        del out["prefixItems"]
    out = _nullable(out)
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "examples" in out:
        examples = out.pop("examples")
        if examples:
            out.setdefault("example", examples[0])
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out[bound], bool):
            out[flag], out[bound] = out[bound], True
    if "contentMediaType" in out:
        del out["contentMediaType"]
        out.setdefault("format", "binary")
    if "$ref" in out and len(out) > 1:
        out = {**{k: v for k, v in out.items() if k != "$ref"}, "allOf": [{"$ref": out["$ref"]}]}
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`type: [T, "null"]` and `anyOf: [S, {"type": "null"}]` as 3.0 says them: T or S with
    `nullable: true` (S merged into its parent when it is the one branch left)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            schema["nullable"] = True
        if len(kinds) == 1:
            schema["type"] = kinds[0]
        else:
            del schema["type"]
            if kinds:
                schema["anyOf"] = [{"type": k} for k in kinds]
    elif kind == "null":
        del schema["type"]
        schema["nullable"] = True
        schema.setdefault("enum", [None])
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if not branches:
            continue
        kept = [b for b in branches if b != {"nullable": True, "enum": [None]}]
        if len(kept) == len(branches):
            continue
        schema["nullable"] = True
        if len(kept) != 1:
            schema[key] = kept
            continue
        del schema[key]
        (only,) = kept
        if "$ref" in only:  # a reference cannot be merged into: it must stay a reference
            schema.setdefault("allOf", []).append(only)
        else:
            schema = {**only, **schema}
    return schema
