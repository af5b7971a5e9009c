"""Property-based requests generated from each service's own OpenAPI document."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_headers_conformance

from tests.support import examples
from tests.support.apps import bearer


def test_no_generated_request_breaks_the_api(app, tokens):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8  # the token, the order list and one order, its conflicts
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            # X-Pagination is a JSON document; the check parses it as a comma-split object
            case.call_and_validate(
                headers=bearer(tokens["editor"]),
                excluded_checks=[response_headers_conformance],
            )

        check()
