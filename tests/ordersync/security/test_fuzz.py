"""Schemathesis with a valid admin token: valid and invalid inputs on every operation, no 5xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.support import examples
from tests.support.apps import bearer
from tests.support.web import TOKEN_PATH


def json_error_shape(ctx, response, case) -> None:
    """Every 4xx/5xx answer is the shared JSON error body."""
    if response.status_code >= 400:
        body = response.json()
        assert body["code"] == response.status_code, body
        assert isinstance(body["message"], str) and body["status"], body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_breaks_the_authenticated_api(app, tokens, mode):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8  # the token, the order list and one order, its conflicts
    seen = set()
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate(
                headers=bearer(tokens["admin"]),
                checks=[not_a_server_error, json_error_shape],
            )
            seen.add((case.operation.path, response.status_code))

        check()
    orders = {status for path, status in seen if path != TOKEN_PATH}
    if mode is GenerationMode.POSITIVE:
        # the token was accepted everywhere, so the fuzzing got past authentication
        assert 401 not in orders and orders & {200, 201, 204}, orders
    else:
        # negative cases also drop the Authorization header on purpose: the rest got past it
        assert orders - {401}, orders
