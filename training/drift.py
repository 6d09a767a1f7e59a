"""How far a score distribution has moved: the population stability index."""

import numpy as np

BINS = 10
FLOOR = 1e-4  # an empty bin's share: a bin no score fell in must not make the index infinite


def population_stability_index(expected: np.ndarray, actual: np.ndarray, bins: int = BINS) -> float:
    """Σ (actual − expected) · ln(actual / expected) over the bins of `expected`'s quantiles
    (shares of each sample per bin). About 0: the same distribution; above 0.25, by the usual
    reading, a shift worth acting on."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    expected_share = np.histogram(expected, edges)[0] / len(expected)
    actual_share = np.histogram(actual, edges)[0] / len(actual)
    expected_share, actual_share = np.clip(expected_share, FLOOR, None), np.clip(actual_share, FLOOR, None)
    return float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share)))
