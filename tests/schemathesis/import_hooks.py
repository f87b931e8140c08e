"""schemathesis hooks for the import conformance test (tests/it/openapi_import.rs).

They leave out requests whose bytes are, by their encoding, the same as a
schema-valid request's, so that no server can answer them as schemathesis
expects; only swagger-petstore v3's `POST /pet` and `PUT /pet`, whose `Pet`
has array properties (`photoUrls`, `tags`) and an object one (`category`),
have such. docs/importing.md says the same.
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


@schemathesis.hook
def filter_case(context, case):
    """No invalid XML `Pet` whose array is written as an empty element.

    `tags: {}` (or "" or null), sent as "not an array", is `<tags></tags>`,
    the same bytes as the valid empty wrapped array `tags: []`.
    """
    meta = case.meta
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
