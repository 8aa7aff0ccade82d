"""Queue estimates: first come first served, `slots` at a time, each run taking the typical duration."""

from just_dna_pipelines.runs.estimate import start_estimates, typical_duration


def test_no_history_means_no_estimate() -> None:
    assert typical_duration([]) is None
    assert start_estimates(2, [5.0], None, 1) == [None, None]


def test_one_slot_waits_for_the_running_run_then_each_ahead() -> None:
    # 10 s typical, the running run is 4 s in: it frees the slot in 6 s; each later run 10 s after that.
    assert start_estimates(3, [4.0], 10.0, 1) == [6.0, 16.0, 26.0]


def test_two_slots_take_the_earliest_free_one() -> None:
    assert start_estimates(3, [9.0, 2.0], 10.0, 2) == [1.0, 8.0, 11.0]


def test_a_free_slot_starts_the_first_at_once_and_an_overdue_run_ends_any_moment() -> None:
    assert start_estimates(2, [], 10.0, 1) == [0.0, 10.0]
    assert start_estimates(1, [30.0], 10.0, 1) == [0.0]


def test_more_runs_in_progress_than_slots_wait_for_enough_to_end() -> None:
    # The cap was lowered to 1 while two runs were going: both must end before a queued run starts.
    assert start_estimates(1, [8.0, 5.0], 10.0, 1) == [5.0]


def test_the_median_resists_one_odd_run() -> None:
    assert typical_duration([3.0, 4.0, 300.0]) == 4.0
