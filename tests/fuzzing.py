"""The Hypothesis settings every fuzz test runs with (test_fuzz, test_fuzz_alike)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# In CI the examples are derived from the test names (derandomize), so a landing is
# never decided by chance; a developer's run explores new examples each time. A long
# local run: JOB_GATEWAY_FUZZ_EXAMPLES=10000 pytest tests/test_fuzz*.py
FUZZ = settings(
    max_examples=int(os.environ.get("JOB_GATEWAY_FUZZ_EXAMPLES", "150")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
