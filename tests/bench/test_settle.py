"""The settled idle figure rests until the stack's CPU stops falling, and no longer than allowed."""

from bench.scenarios import settle


def shares(*values):
    """A measuring function that returns these shares of a core in turn, and the windows asked."""
    given, windows = iter(values), []

    def measure(window):
        windows.append(window)
        return {"total_pct": next(given)}

    return measure, windows


def test_settles_after_two_windows_that_do_not_fall():
    measure, windows = shares(9.0, 6.0, 5.0, 4.9, 4.8, 1.0)
    # 5.0 → 4.9 → 4.8: each within a quarter of a point of the lowest before it
    assert settle(measure, window=15, most=300) == (75, True)
    assert windows == [15] * 5


def test_one_flat_window_is_not_enough():
    measure, windows = shares(6.0, 6.1, 5.0, 5.0, 5.1)
    assert settle(measure, window=15, most=300) == (75, True)
    assert len(windows) == 5


def test_a_window_is_compared_with_the_lowest_so_far():
    # 5.6 falls from the window before it (6.0) but not below the lowest (5.0): a spike passing
    measure, _ = shares(5.0, 6.0, 5.6)
    assert settle(measure, window=15, most=300) == (45, True)
    # and a window below the lowest starts the count again
    measure, _ = shares(5.0, 6.0, 4.5, 4.5, 4.4)
    assert settle(measure, window=15, most=300) == (75, True)


def test_gives_up_after_the_most_it_may_rest_and_says_so():
    measure, windows = shares(*range(100, 0, -1))
    assert settle(measure, window=15, most=60) == (60, False)
    assert len(windows) == 4


def test_no_rest_when_the_most_is_under_one_window():
    measure, windows = shares()
    assert settle(measure, window=15, most=10) == (0, False)
    assert windows == []
