"""training/drift.py: the population stability index against hand-computed values."""

import math

import numpy as np
import pytest

from training.drift import population_stability_index


def test_the_index_of_a_known_shift_is_the_hand_computed_one():
    expected = np.arange(400) / 400  # quartile edges at 0.25, 0.5, 0.75: a quarter in each bin
    actual = np.concatenate([np.full(10, 0.1), np.full(20, 0.3), np.full(30, 0.6), np.full(40, 0.9)])
    by_hand = sum((a - 0.25) * math.log(a / 0.25) for a in (0.1, 0.2, 0.3, 0.4))  # 0.2282
    assert population_stability_index(expected, actual, bins=4) == pytest.approx(by_hand, abs=1e-9)
    assert by_hand == pytest.approx(0.2282, abs=1e-4)


def test_the_same_distribution_scores_about_zero_and_a_moved_one_high():
    rng = np.random.default_rng(7)
    expected = rng.beta(1, 8, 5000)
    assert population_stability_index(expected, rng.beta(1, 8, 5000)) < 0.02
    assert population_stability_index(expected, rng.beta(4, 4, 5000)) > 1.0
    # A bin no live score reached does not make the index infinite.
    assert math.isfinite(population_stability_index(expected, np.full(100, 0.5)))
