"""Augmentation: seeded, training rows only, labels kept, and recorded."""

import random

import numpy as np
import pytest

from tests.tiny import tiny_config
from training.augment import DISGUISES, augment, disguise, swap_identities
from training.data import Example
from training.normalise import normalise
from training.templates import IDENTITY_TERMS, evaluation_templates, training_templates


@pytest.mark.parametrize("name", sorted(DISGUISES))
def test_each_disguise_changes_the_insult_and_keeps_the_rest(name):
    text = "You are a stupid idiot, go away"
    disguised = disguise(text, name, random.Random(1))
    assert disguised != text
    assert disguised.startswith("You are a ") and disguised.endswith(", go away")


@pytest.mark.parametrize("name", ["spaced", "dotted", "homoglyph", "zero_width", "leetspeak"])
def test_the_normaliser_undoes_the_exact_disguises(name):
    text = "what crap, go away"
    assert normalise(disguise(text, name, random.Random(3))) == text


def test_identity_swap_replaces_every_term_and_keeps_case():
    swapped = swap_identities("Gay people and muslim people", random.Random(0))
    assert swapped is not None
    words = swapped.split()
    assert words[0][0].isupper() and words[0].lower() in IDENTITY_TERMS and words[0] != "Gay"
    assert words[3] in IDENTITY_TERMS and words[3] != "muslim"
    assert swap_identities("nothing to swap here", random.Random(0)) is None


def test_augment_is_seeded_and_keeps_labels_and_records_counts():
    rows = [
        Example("you stupid idiot", {"toxic": True, "insult": True}),
        Example("a gay couple moved in", {"toxic": False}),
        Example("thanks for the edit", {"toxic": False}),
    ]
    added, record = augment(rows, seed=5)
    assert added == augment(rows, seed=5)[0]
    assert record["disguised_toxic_copies"] == 1 and record["identity_swaps"] == 1
    assert record["total"] == len(added) == 2 + record["template_sentences"]
    disguised = next(e for e in added if e.labels == rows[0].labels)
    assert disguised.text != rows[0].text
    swapped = next(e for e in added if "couple moved in" in e.text)
    assert swapped.labels == {"toxic": False}


def test_templates_are_labelled_only_where_known_and_evaluation_frames_are_separate():
    training = training_templates(0)
    assert any(e.labels.get("threat") for e in training) and any(e.labels.get("identity_hate") for e in training)
    assert all("racism" not in e.labels for e in training)
    threats = [e for e in training if e.labels.get("threat")]
    assert all(set(e.labels) == {"toxic", "threat"} for e in threats)  # the rest is unknown
    evaluation = {sentence for sentence, _, _ in evaluation_templates()}
    assert not evaluation & {e.text for e in training}
    terms = {term for _, term, _ in evaluation_templates()}
    assert terms == set(IDENTITY_TERMS)


@pytest.mark.slow
def test_a_run_augments_training_rows_only_and_records_it(tmp_path, demo_examples):
    from training.pipeline import split_stage

    config = tiny_config(augment=True)
    plain = split_stage(tiny_config(), demo_examples)
    split = split_stage(config, demo_examples)
    assert np.array_equal(split.val_index, plain.val_index)
    assert split.digest == plain.digest  # the labelled rows' hash, augmentation aside
    added = len(split.examples) - len(plain.examples)
    assert added == split.augmentation["total"] > 0
    assert len(split.train_index) == len(plain.train_index) + added
    assert not {split.examples[i].text for i in split.val_index} & set(
        e.text for e in split.examples[len(plain.examples) :]
    )
