"""Roll-out choices are stable, monotonic in the share, and independent between banks."""

from __future__ import annotations

from vigil.signals.rollout import in_rollout, rollout_position


def test_extremes_need_no_hashing() -> None:
    assert all(in_rollout(1.0, 1, i) for i in range(100))
    assert not any(in_rollout(0.0, 1, i) for i in range(100))


def test_the_same_item_gets_the_same_answer() -> None:
    assert [in_rollout(0.3, 4, i) for i in range(500)] == [
        in_rollout(0.3, 4, i) for i in range(500)
    ]
    assert rollout_position(4, 17) == rollout_position(4, 17)


def test_a_larger_share_keeps_every_item_of_a_smaller_one() -> None:
    small = {i for i in range(5000) if in_rollout(0.1, 9, i)}
    large = {i for i in range(5000) if in_rollout(0.6, 9, i)}
    assert small < large
    assert 400 <= len(small) <= 600
    assert 2800 <= len(large) <= 3200
