import json

import numpy as np
import pytest

from training.calibration import (
    ProbabilityMap,
    apply_probability_maps,
    best_f1_threshold,
    calibrate_thresholds,
    calibration_error,
    fit_probability_map,
    fit_probability_maps,
)
from training.evaluation import evaluate


def test_best_threshold_is_the_exact_f1_optimum():
    scores = np.array([0.1, 0.2, 0.35, 0.4, 0.7, 0.8])
    truth = np.array([0, 0, 1, 0, 1, 1])
    threshold, f1 = best_f1_threshold(scores, truth)
    # At 0.35: tp 3, fp 1, fn 0 -> F1 6/7; at 0.7: tp 2, fn 1 -> 0.8.
    assert threshold == pytest.approx(0.35)
    assert f1 == pytest.approx(6 / 7)


def test_threshold_floor_and_too_few_positives():
    probs = np.array([[0.01, 0.9], [0.02, 0.1], [0.001, 0.8], [0.0, 0.2], [0.015, 0.3]])
    y = np.array([[1, 1], [1, 0], [0, 1], [0, 0], [1, 0]], dtype=np.float32)
    mask = np.ones_like(y)
    result = calibrate_thresholds(probs, y, mask, ["a", "b"], floor=0.05, min_positives=3)
    assert result["a"].threshold == 0.05 and result["a"].calibrated and result["a"].positives == 3
    assert result["b"].threshold == 0.5 and not result["b"].calibrated and result["b"].positives == 2


def test_unknown_rows_are_left_out_of_calibration_and_metrics():
    probs = np.array([[0.9], [0.8], [0.1], [0.95]])
    y = np.array([[1], [1], [0], [0]], dtype=np.float32)
    mask = np.array([[1], [1], [1], [0]], dtype=np.float32)  # the confident "negative" is unknown
    result = calibrate_thresholds(probs, y, mask, ["toxic"], floor=0.05, min_positives=1)
    assert result["toxic"].f1 == pytest.approx(1.0)
    metrics = evaluate(probs, y, mask, ["toxic"], {"toxic": 0.5})
    assert metrics["labels"]["toxic"]["precision"] == 1.0
    assert metrics["labels"]["toxic"]["known"] == 3


def test_macro_and_micro_f1_by_hand_and_unevaluated_labels():
    probs = np.array([[0.9, 0.9, 0.2], [0.1, 0.8, 0.3], [0.7, 0.1, 0.1]])
    y = np.array([[1, 1, 0], [0, 0, 0], [0, 1, 0]], dtype=np.float32)
    mask = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 0]], dtype=np.float32)
    metrics = evaluate(probs, y, mask, ["a", "b", "c"], {"a": 0.5, "b": 0.5, "c": 0.5})
    # a: tp1 fp1 fn0 -> 2/3; b: tp1 fp1 fn1 -> 1/2; c: unknown everywhere.
    assert metrics["labels"]["a"]["f1"] == pytest.approx(2 / 3)
    assert metrics["labels"]["b"]["f1"] == pytest.approx(1 / 2)
    assert metrics["labels"]["c"]["evaluated"] is False
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert metrics["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 2 + 1))


def _synthetic(n: int, seed: int):
    """Raw scores squeezed toward the middle, as a focal-loss model gives them: the true chance
    of a positive is sigmoid(z), the model says sigmoid(z / 3)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-2.0, 2.0, n)
    truth = rng.random(n) < 1 / (1 + np.exp(-z))
    return (1 / (1 + np.exp(-z / 3))).astype(np.float32), truth


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_a_calibrated_scorer_says_what_it_means(method):
    """ECE ≤ 0.02 on fresh data after fitting on held-out data; the raw scores are far off."""
    scores, truth = _synthetic(20_000, seed=1)
    fresh_scores, fresh_truth = _synthetic(20_000, seed=2)
    assert calibration_error(fresh_scores, fresh_truth)["ece"] > 0.1
    fitted = fit_probability_map(method, scores.astype(np.float64), truth.astype(np.float64))
    calibrated = calibration_error(fitted.apply(fresh_scores), fresh_truth)
    assert calibrated["ece"] <= 0.02
    assert calibrated["brier"] < calibration_error(fresh_scores, fresh_truth)["brier"]


def test_all_maps_at_once_give_what_each_map_gives_its_column():
    """apply_probability_maps works on the Platt columns together: the same numbers, bit for bit,
    as each label's own map, whatever the mix of methods and the order of the labels."""
    scores, truth = _synthetic(2000, seed=4)
    maps = {
        "p1": fit_probability_map("platt", scores.astype(np.float64), truth.astype(np.float64)),
        "iso": fit_probability_map("isotonic", scores.astype(np.float64), truth.astype(np.float64)),
        "same": ProbabilityMap("identity"),
        "p2": ProbabilityMap("platt", a=0.7, b=-1.3),
    }
    labels = ["iso", "p1", "same", "p2"]
    probs = np.random.default_rng(0).random((50, 4)).astype(np.float32)
    probs[:3, :] = [[0.0] * 4, [1.0] * 4, [1e-9] * 4]  # the clipped ends
    expected = np.stack([maps[name].apply(probs[:, j]) for j, name in enumerate(labels)], axis=1)
    applied = apply_probability_maps(probs, maps, labels)
    assert applied.dtype == np.float32
    np.testing.assert_array_equal(applied, expected)


def test_maps_choose_per_label_keep_the_order_and_survive_json():
    scores, truth = _synthetic(4000, seed=3)
    probs = np.stack([scores, scores], axis=1)
    y = np.stack([truth, truth], axis=1).astype(np.float32)
    mask = np.ones_like(y)
    mask[:, 1] = 0
    mask[:8, 1] = 1  # eight known rows: too few to calibrate
    maps = fit_probability_maps(probs, y, mask, ["a", "b"], min_positives=3)
    assert maps["a"].method in {"platt", "isotonic"} and maps["b"].method == "identity"
    restored = {name: ProbabilityMap.from_dict(json.loads(json.dumps(m.to_dict()))) for name, m in maps.items()}
    applied = apply_probability_maps(probs, restored, ["a", "b"])
    np.testing.assert_array_equal(applied[:, 1], probs[:, 1])
    order = np.argsort(probs[:, 0])
    assert np.all(np.diff(applied[order, 0]) >= -1e-7)  # monotone: the ranking (and AUC) stays
