"""The settled idle figure rests until the stack's CPU stops falling, and no longer than allowed."""

from bench.scenarios import settle


def shares(*values):
    """A measuring function that returns these shares of a core in turn, and the windows asked."""
    given, windows = iter(values), []

    def measure(window):
        windows.append(window)
        return {"total_pct": next(given)}

    return measure, windows


def test_settles_at_the_first_window_that_does_not_fall():
    measure, windows = shares(9.0, 6.0, 5.0, 4.9, 1.0)
    # 5.0 → 4.9 is within a quarter of a point: settled after four windows
    assert settle(measure, window=15, most=300) == 60
    assert windows == [15, 15, 15, 15]


def test_a_window_that_rises_counts_as_settled():
    measure, _ = shares(6.0, 6.5)
    assert settle(measure, window=15, most=300) == 30


def test_gives_up_after_the_most_it_may_rest():
    measure, windows = shares(*range(100, 0, -1))
    assert settle(measure, window=15, most=60) == 60
    assert len(windows) == 4


def test_no_rest_when_the_most_is_under_one_window():
    measure, windows = shares()
    assert settle(measure, window=15, most=10) == 0
    assert windows == []
