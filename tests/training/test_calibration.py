import numpy as np
import pytest

from training.calibration import best_f1_threshold, calibrate_thresholds
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
