"""Schemathesis over the OpenAPI schema, as every role: no server errors, responses match the
schema they declare. A short run per operation (make the examples count larger locally with
LORAFACE_FUZZ_EXAMPLES=200)."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests import factories

EXAMPLES = int(os.environ.get("LORAFACE_FUZZ_EXAMPLES", "5"))


@pytest.fixture
def role_headers(db) -> dict[str, dict[str, str]]:
    """Headers for a visitor and for a user of each role (each call of a case runs as all)."""
    headers = {"anonymous": {}}
    for role in ("learner", "instructor", "reviewer", "admin"):
        user = factories.make_user(db, role=role)
        headers[role] = {"Authorization": f"Bearer {factories.make_token(db, user)}"}
    db.commit()
    return headers


def _is_server_error(response) -> bool:
    return response.status_code >= 500


def test_no_server_errors_and_declared_schemas_hold(app, role_headers):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    calls = 0
    for operation in operations:

        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
        )
        @given(case=operation.as_strategy())
        def check(case):
            for role, headers in role_headers.items():
                if case.method == "DELETE" and case.formatted_path == "/api/me":
                    continue  # erasing the account has its own tests; here it would end the run
                response = case.call(headers=headers)
                nonlocal calls
                calls += 1
                assert not _is_server_error(response), (
                    f"as {role}: {case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
                )
                case.validate_response(response, checks=[response_schema_conformance])

        check()
    # Shown with -s: the totals for the record (every call passed both checks to get here).
    print(
        f"schemathesis: {len(operations)} operations, {calls} calls as {len(role_headers)} roles, 0 server errors, 0 schema violations"
    )
