"""The JSON API against its own OpenAPI document, by Schemathesis (a tool nobody here wrote):
it reads /api/openapi.json, generates requests for every operation, valid ones and invalid
ones, and checks each answer: never a server error, only documented status codes and content
types, bodies that match the documented schemas, and invalid requests refused with a 4xx.

The app runs in-process (WSGI) over the demo index. Examples are bounded and derandomized, so
a run is repeatable and takes seconds. (Schemathesis' own pytest loader, ``from_fixture``, does
not run under pytest 9, so each operation's Hypothesis strategy is driven here directly.)
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install '.[test]')")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

import web  # noqa: E402
from search import Settings  # noqa: E402
from web.openapi import openapi_document  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATIONS = [f"GET {path}" for path in openapi_document(Settings())["paths"]]
# Schemathesis asks for compressed answers but its WSGI transport does not decompress them
# (test_web.py checks the compression itself)
PLAIN = {"Accept-Encoding": "identity"}
EXAMPLES = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api_schema(demo_index, demo_settings):
    app = web.create_app(demo_settings)
    yield schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    web.close_app(app)


def operation(api_schema, label: str):
    found = api_schema.find_operation_by_label(label)
    assert found is not None, f"{label} is not in the served OpenAPI document"
    return found


@pytest.mark.parametrize("label", OPERATIONS)
def test_valid_requests_get_documented_answers(api_schema, label):
    @EXAMPLES
    @given(case=operation(api_schema, label).as_strategy(GenerationMode.POSITIVE))
    def run(case):
        case.call_and_validate(checks=CHECKS, headers=PLAIN)

    run()


# the operations whose parameters have values to get wrong (the others take only free-form ids)
@pytest.mark.parametrize("label", ["GET /api/search", "GET /api/suggest", "GET /api/articles/{id}"])
def test_invalid_requests_are_refused_with_a_documented_4xx(api_schema, label):
    """A type, range or enum value the document rules out is refused, never served."""
    @EXAMPLES
    @given(case=operation(api_schema, label).as_strategy(GenerationMode.NEGATIVE))
    def run(case):
        case.call_and_validate(checks=[*CHECKS, negative_data_rejection], headers=PLAIN)

    run()
