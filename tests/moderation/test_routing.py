"""The routing table: each rule kind, scopes, ordering. Pure: no database."""

import pytest

from moderation.engine.rules import AUTO_APPROVE, AUTO_REJECT, REVIEW, Rule, decide_route

THRESHOLDS = {"toxic": 0.5, "threat": 0.4, "insult": 0.6}
URGENT_THREAT = Rule(id=1, order=10, action=REVIEW, label="threat", queue="urgent")
APPROVE = Rule(id=2, order=1000, action=AUTO_APPROVE, margin=0.1)
REJECT_TOXIC = Rule(id=3, order=5, action=AUTO_REJECT, label="toxic", threshold=0.95)


def route(scores, rules=(URGENT_THREAT, APPROVE, REJECT_TOXIC), source="default", **kwargs):
    full = {"toxic": 0.0, "threat": 0.0, "insult": 0.0, **scores}
    return decide_route(
        scores=full,
        calibrated_thresholds=THRESHOLDS,
        rules=list(rules),
        source=source,
        default_queue="general",
        **kwargs,
    )


def test_clean_comment_is_auto_approved():
    decision = route({"toxic": 0.1})
    assert (decision.action, decision.queue, decision.flagged) == (AUTO_APPROVE, None, ())
    assert decision.rule_id == 2


def test_near_threshold_goes_to_a_person():
    decision = route({"toxic": 0.45})
    assert (decision.action, decision.queue) == (REVIEW, "general")
    assert "near threshold" in decision.reason and decision.flagged == ()


def test_over_calibrated_threshold_is_reviewed_in_the_default_queue():
    decision = route({"toxic": 0.7, "insult": 0.65})
    assert (decision.action, decision.queue) == (REVIEW, "general")
    assert decision.flagged == ("toxic", "insult")
    assert "toxic 0.70 ≥ 0.50" in decision.reason


def test_a_label_rule_sends_its_label_to_its_queue():
    decision = route({"threat": 0.5, "toxic": 0.6})
    assert (decision.action, decision.queue, decision.rule_id) == (REVIEW, "urgent", 1)


def test_auto_reject_comes_before_review():
    decision = route({"toxic": 0.97, "threat": 0.9})
    assert decision.action == AUTO_REJECT and decision.queue is None and decision.rule_id == 3
    assert set(decision.flagged) == {"toxic", "threat"}


def test_an_explicit_review_threshold_overrides_the_calibrated_one():
    strict = Rule(id=4, order=20, action=REVIEW, label="toxic", threshold=0.3, queue="general")
    assert route({"toxic": 0.35}, rules=[strict, APPROVE]).flagged == ("toxic",)
    # Without the rule the calibrated 0.5 stands: 0.35 is more than the 0.1 margin below it.
    assert route({"toxic": 0.35}, rules=[APPROVE]).action == AUTO_APPROVE


def test_order_decides_between_matching_review_rules():
    toxic_to_general = Rule(id=5, order=5, action=REVIEW, label="toxic", queue="general")
    assert route({"threat": 0.5, "toxic": 0.6}, rules=[URGENT_THREAT, toxic_to_general]).queue == "general"
    later = Rule(id=5, order=50, action=REVIEW, label="toxic", queue="general")
    assert route({"threat": 0.5, "toxic": 0.6}, rules=[URGENT_THREAT, later]).queue == "urgent"


def test_a_source_scoped_rule_replaces_the_global_one_for_that_source_only():
    kids = Rule(id=6, order=5, action=AUTO_REJECT, label="toxic", threshold=0.6, source="kids")
    rules = [URGENT_THREAT, APPROVE, REJECT_TOXIC, kids]
    assert route({"toxic": 0.7}, rules=rules, source="kids").action == AUTO_REJECT
    assert route({"toxic": 0.7}, rules=rules, source="forum").action == REVIEW
    # On "kids" the scoped rule replaced the global 0.95 rule; it did not add to it.
    assert route({"toxic": 0.7}, rules=rules, source="kids").rule_id == 6


def test_without_an_auto_approve_rule_everything_is_reviewed():
    decision = route({"toxic": 0.01}, rules=[URGENT_THREAT])
    assert (decision.action, decision.queue) == (REVIEW, "general")


def test_priority_grows_with_severity_and_distance_over_threshold():
    mild = route({"toxic": 0.55})
    strong = route({"toxic": 0.9})
    threat = route({"threat": 0.9}, severity={"threat": 3.0})
    assert 0 < mild.priority < strong.priority < threat.priority


@pytest.mark.parametrize("score", [0.0, 0.3999, 0.4, 0.9999, 1.0])
def test_threshold_boundary_is_inclusive(score):
    decision = route({"threat": score})
    assert ("threat" in decision.flagged) == (score >= 0.4)


def test_an_unreliable_labels_low_score_does_not_approve_a_comment():
    # threat's threshold is 0.4: 0.25 is below it by more than the margin, but threat is
    # not reliable, so that is no proof of a clean comment.
    decision = route({"threat": 0.25}, unreliable=("threat",))
    assert (decision.action, decision.queue) == (REVIEW, "general")
    assert "not reliable" in decision.reason and "threat 0.25" in decision.reason
    assert route({"threat": 0.25}).action == AUTO_APPROVE  # the same score of a reliable label


def test_a_comment_whose_labels_are_all_low_passes_despite_an_unreliable_label():
    decision = route({"threat": 0.05, "toxic": 0.1}, unreliable=("threat",))
    assert decision.action == AUTO_APPROVE


def test_an_unreliable_label_over_its_threshold_is_still_flagged():
    decision = route({"threat": 0.5}, unreliable=("threat",))
    assert (decision.action, decision.queue, decision.flagged) == (REVIEW, "urgent", ("threat",))


def test_a_language_the_model_was_not_trained_on_goes_to_a_person():
    decision = route({"toxic": 0.99}, unserved_language="es")
    assert decision.action == REVIEW and decision.queue == "general" and "in es" in decision.reason
    assert decision.flagged == ("toxic",)  # the scores are still shown to the person
    assert route({}, unserved_language="").action == AUTO_APPROVE
