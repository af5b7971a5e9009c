"""The benchmark refuses a bad size by name before it measures anything."""

import pytest

from tests.support.processes import run_module


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BENCH_RATE", "abc"),
        ("BENCH_SECONDS", "-1"),
        ("BENCH_RUNS", "0"),
        ("BENCH_ROWS", "inf"),
        ("BENCH_CURVE_RATES", "50,nan"),
        ("BENCH_CURVE_RATES", "50,,100"),
    ],
)
def test_a_bad_size_exits_1_naming_it(variable, value):
    result = run_module("bench", env={variable: value}, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{variable}=")
    assert "Traceback" not in result.stderr
