"""schemathesis hooks for the import conformance test (tests/it/openapi_import.rs).

They leave out requests whose bytes are, by their encoding, the same as a
schema-valid request's, so that no server can answer them as schemathesis
expects; only swagger-petstore v3's `POST /pet` and `PUT /pet`, whose `Pet`
has array properties (`photoUrls`, `tags`) and an object one (`category`),
have such. And, for every document, schema-valid JSON bodies holding an
integer that rounds onto a 64-bit limit, which standin refuses by design
(RFC 8259, section 6). docs/importing.md says the same.
"""

import schemathesis
from schemathesis.generation import GenerationMode

PETSTORE_V3 = "Swagger Petstore - OpenAPI 3.0"
FORM = "application/x-www-form-urlencoded"
XML = "application/xml"
ARRAYS = ("photoUrls", "tags")


def writes_a_pet(operation):
    """`POST /pet` or `PUT /pet` of swagger-petstore v3."""
    info = operation.schema.raw_schema.get("info", {})
    return (
        info.get("title") == PETSTORE_V3
        and operation.path == "/pet"
        and operation.method.lower() in ("post", "put")
    )


@schemathesis.hook
def before_init_operation(context, operation):
    """No form bodies for `Pet`, which no form can carry.

    The document declares `application/x-www-form-urlencoded` for `Pet` with
    no `encoding` object. The one-element array `photoUrls: ["AAA"]` and the
    string `photoUrls: "AAA"` are the same bytes (`photoUrls=AAA`), so no
    server can refuse the one and accept the other; `category` (an object)
    and `tags` (an array of objects) go out as their keys only
    (`tags=id&tags=name`), their values lost, so no server can read them.
    JSON and XML bodies are still generated for these operations, and form
    bodies for every other operation (`Order`'s and `User`'s fit a form).
    """
    if writes_a_pet(operation):
        operation.body.items = [body for body in operation.body if body.media_type != FORM]


def at_a_64_bit_limit(value):
    """Whether `value` holds, at any depth, an integer that no 64-bit integer
    holds and that rounds onto a 64-bit limit as a double (-2^63, 2^63,
    2^64): what standin refuses (`beyond_64_bits` in src/http/openapi/request.rs)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        rounded = float(value)
        return not -(2**63) <= value < 2**64 and (abs(rounded) == 2.0**63 or rounded == 2.0**64)
    if isinstance(value, dict):
        return any(at_a_64_bit_limit(item) for item in value.values())
    if isinstance(value, list):
        return any(at_a_64_bit_limit(item) for item in value)
    return False


@schemathesis.hook
def filter_case(context, case):
    """No schema-valid case with an integer at a 64-bit limit in its body,
    and no invalid XML `Pet` whose array is written as an empty element.

    standin answers a JSON body with an integer that rounds onto a 64-bit
    limit `400`, whatever the schema allows. `tags: {}` (or
    "" or null), sent as "not an array", is `<tags></tags>`, the same bytes
    as the valid empty wrapped array `tags: []`.
    """
    meta = case.meta
    if (
        meta is not None
        and meta.generation.mode == GenerationMode.POSITIVE
        and at_a_64_bit_limit(case.body)
    ):
        return False
    if (
        not writes_a_pet(case.operation)
        or case.media_type != XML
        or meta is None
        or meta.generation.mode != GenerationMode.NEGATIVE
        or not isinstance(case.body, dict)
    ):
        return True
    return not any(
        name in case.body and not isinstance(case.body[name], list) and case.body[name] in ({}, "", None)
        for name in ARRAYS
    )
