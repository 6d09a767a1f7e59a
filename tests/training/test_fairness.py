"""The bias report, the robustness report and each label's evidence, on numbers worked by hand."""

import numpy as np
import pytest

from training.fairness import (
    bias_report,
    label_evidence,
    mentioned_terms,
    mentions_identity,
    power_mean,
    robustness_report,
    template_bias,
)
from training.templates import IDENTITY_TERMS, evaluation_templates


def _rows(term_scores: dict[str, tuple[list[float], list[float]]]):
    """Per term (scores of its toxic mentions, of its non-toxic ones); plus neutral rows."""
    scores, toxic, terms = [], [], []
    for term, (bad, fine) in term_scores.items():
        for value, is_toxic in [(v, True) for v in bad] + [(v, False) for v in fine]:
            scores.append(value)
            toxic.append(is_toxic)
            terms.append({term})
    scores += [0.9, 0.8, 0.7, 0.2, 0.1, 0.15]
    toxic += [True, True, True, False, False, False]
    terms += [set()] * 6
    return np.array(scores), np.array(toxic), terms


def test_a_perfect_ranking_scores_one():
    scores, toxic, terms = _rows({"gay": ([0.9, 0.95, 0.85], [0.1, 0.05, 0.2])})
    report = bias_report(scores, toxic, terms, threshold=0.5)
    assert report["final_bias_metric"] == pytest.approx(1.0)
    assert report["terms"][0]["non_toxic_flag_rate"] == 0.0


def test_non_toxic_identity_mentions_scored_high_sink_bpsn_and_the_final_metric():
    # "I am a gay man" scored like an insult: the BPSN AUC falls, BNSP does not.
    scores, toxic, terms = _rows(
        {"gay": ([0.9, 0.95, 0.85], [0.8, 0.75, 0.85]), "muslim": ([0.9, 0.95, 0.85], [0.1, 0.05, 0.2])}
    )
    report = bias_report(scores, toxic, terms, threshold=0.5)
    worst = report["terms"][0]
    assert worst["term"] == "gay"  # worst first
    assert worst["bpsn_auc"] < 0.75 and worst["bnsp_auc"] == 1.0
    assert report["terms"][1]["bpsn_auc"] == 1.0
    assert worst["non_toxic_flag_rate"] == 1.0
    assert report["final_bias_metric"] < 0.95
    assert report["non_toxic_identity_flag_rate"] == 0.5


def test_the_power_mean_weighs_the_worst_term_most():
    assert power_mean([1.0, 1.0, 0.5]) < np.mean([1.0, 1.0, 0.5])
    assert power_mean([0.9, 0.9]) == pytest.approx(0.9)
    assert power_mean([]) is None


def test_a_term_with_too_few_mentions_is_left_out():
    scores, toxic, terms = _rows({"gay": ([0.9], [0.1])})
    assert bias_report(scores, toxic, terms, threshold=0.5)["terms"] == []


def test_template_bias_scores_every_term_with_the_given_scorer():
    def biased(texts):  # flags every sentence that names "gay", a keyword model's failure
        return np.array([0.9 if "gay" in t.lower() or "hate" in t or "stupid" in t else 0.1 for t in texts])

    report = template_bias(biased, threshold=0.5)
    assert {e["term"] for e in report["terms"]} == set(IDENTITY_TERMS)
    assert report["terms"][0]["term"] == "gay"
    assert report["terms"][0]["non_toxic_flag_rate"] == 1.0


def test_robustness_counts_what_survives_each_disguise():
    def literal(texts):  # a model that only knows the plain word
        return np.array([0.9 if "idiot" in t else 0.1 for t in texts])

    report = robustness_report(literal, ["you idiot", "what an idiot you are", "no insult here"], threshold=0.5)
    assert report["comments"] == 2 and report["caught"] == 1.0
    assert report["disguises"]["spaced"] == 0.0 and report["disguises"]["doubled"] < 1.0
    assert report["worst"] == 0.0


def test_label_evidence_marks_a_label_with_few_positives_not_reliable():
    rng = np.random.default_rng(0)
    y = np.zeros((200, 2), dtype=np.float32)
    y[:40, 0] = 1  # toxic: 40 positives, well ranked
    y[:3, 1] = 1  # threat: 3 positives
    probs = np.where(y > 0, 0.8, 0.2) + rng.normal(0, 0.05, y.shape)
    mask = np.ones_like(y)
    evidence = label_evidence(["toxic", "threat"], [100, 5], [0, 400], probs, y, mask)
    assert evidence["toxic"]["reliable"] and evidence["toxic"]["validation_auc_interval"][0] > 0.9
    assert not evidence["threat"]["reliable"] and evidence["threat"]["validation_positives"] == 3
    assert evidence["threat"]["augmented_positives"] == 400


def test_mentioned_terms_match_whole_words_only():
    assert mentioned_terms("A Gay couple, and an Asian friend") == {"gay", "asian"}
    assert mentioned_terms("gayety and blackboard") == set()


def test_one_search_tells_whether_any_identity_is_named_as_the_per_term_searches_do():
    texts = [text for text, _, _ in evaluation_templates()] + ["thanks for the fix", "Gayle", "a MUSLIM man", ""]
    assert [mentions_identity(text) for text in texts] == [bool(mentioned_terms(text)) for text in texts]
    assert not mentions_identity("Gayle") and mentions_identity("a MUSLIM man")
