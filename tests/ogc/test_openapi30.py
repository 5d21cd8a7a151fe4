"""The conversion of JSON Schema 2020-12 (what FastAPI writes into OpenAPI 3.1) to OpenAPI
3.0's Schema Object, for the constructs the /ogc routes do not use today: a route that comes
to use one gets a valid document (tests/ogc/test_conformance.py validates what is served)."""

from __future__ import annotations

import pytest

from service.ogc.openapi import schema_as_30

REF = {"$ref": "#/components/schemas/Office"}


@pytest.mark.parametrize(
    ("given", "as_30"),
    [
        (
            {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}], "title": "Limit"},
            {"type": "integer", "minimum": 1, "nullable": True, "title": "Limit"},
        ),
        ({"anyOf": [REF, {"type": "null"}]}, {"allOf": [REF], "nullable": True}),
        (
            {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            {"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": True},
        ),
        ({"type": ["string", "null"]}, {"type": "string", "nullable": True}),
        ({"const": "Feature"}, {"enum": ["Feature"]}),
        ({"type": "string", "examples": ["a", "b"]}, {"type": "string", "example": "a"}),
        (
            {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
            {
                "type": "number",
                "minimum": 0,
                "exclusiveMinimum": True,
                "maximum": 1.5,
                "exclusiveMaximum": True,
            },
        ),
        (
            {"type": "string", "contentMediaType": "application/octet-stream"},
            {"type": "string", "format": "binary"},
        ),
        ({**REF, "description": "the office"}, {"description": "the office", "allOf": [REF]}),
        (
            {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]},
            {"type": "array", "items": {"anyOf": [{"type": "number"}, {"type": "number"}]}},
        ),
        (
            {"type": "object", "properties": {"const": {"const": 1, "$comment": "x"}}},
            {"type": "object", "properties": {"const": {"enum": [1]}}},
        ),
    ],
)
def test_a_31_schema_becomes_its_30_equivalent(given, as_30) -> None:  # type: ignore[no-untyped-def]
    assert schema_as_30(given) == as_30
