import numpy as np

from training.data import (
    Example,
    data_hash,
    iterative_stratified_folds,
    label_matrix,
    train_val_split,
)


def test_absent_labels_are_unknown_not_negative():
    matrix = label_matrix(
        [Example("a", {"toxic": True}), Example("b", {"toxic": False, "racism": False})], ["toxic", "racism"]
    )
    assert matrix.mask.tolist() == [[1, 0], [1, 1]]
    assert matrix.y.tolist() == [[1, 0], [0, 0]]
    assert matrix.positives().tolist() == [1, 0]


def test_stratified_folds_spread_a_rare_label_over_every_fold():
    rng = np.random.default_rng(0)
    examples = [Example(f"t{i}", {"toxic": bool(rng.random() < 0.3), "threat": i < 10}) for i in range(500)]
    matrix = label_matrix(examples, ["toxic", "threat"])
    folds = iterative_stratified_folds(matrix, 5, seed=1)
    assert set(folds) == set(range(5))
    threats_per_fold = np.bincount(folds[:10], minlength=5)
    assert threats_per_fold.tolist() == [2, 2, 2, 2, 2]
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 2


def test_split_is_seeded_and_disjoint():
    matrix = label_matrix([Example(f"t{i}", {"toxic": i % 4 == 0}) for i in range(200)], ["toxic"])
    train, val = train_val_split(matrix, 0.2, seed=3)
    again_train, again_val = train_val_split(matrix, 0.2, seed=3)
    assert np.array_equal(train, again_train) and np.array_equal(val, again_val)
    assert not set(train) & set(val)
    assert len(train) + len(val) == 200
    assert 35 <= len(val) <= 45


def test_data_hash_ignores_order_but_not_content():
    examples = [Example("one", {"toxic": True}), Example("two", {"toxic": False})]
    assert data_hash(examples) == data_hash(examples[::-1])
    assert data_hash(examples) != data_hash([Example("one", {"toxic": False}), examples[1]])
