"""Compare, gate, shadow, simulate, thresholds as rules, scheduled retrain, export."""

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from moderation.models import (
    AuditEvent,
    Comment,
    Decision,
    Label,
    LabelAnnotation,
    ModelVersion,
    RoutingRule,
    TrainingRun,
)
from moderation.selectors.model_versions import (
    model_versions_compare,
    shadow_disagreement,
    simulate_thresholds,
    version_evaluation,
)
from moderation.services import comments_submit_many
from moderation.services.model_versions import (
    comments_shadow_score,
    model_version_promote,
    model_version_promote_gated,
    model_version_shadow_set,
)
from moderation.services.routing_rules import label_thresholds_save
from moderation.services.training import training_retrain_if_due
from tests.factories import (
    AdminFactory,
    ApiClientFactory,
    CommentFactory,
    LabelAnnotationFactory,
    ModeratorFactory,
    install_version,
)
from training.validation_split import text_key

pytestmark = pytest.mark.django_db
HOPELESS = dict.fromkeys(["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate", "racism"], 0.999)


@pytest.fixture
def candidate(trained_artifact, artifacts_dir, active_version):
    return install_version(trained_artifact, artifacts_dir, "candidate", status="candidate")


def submit(texts):
    return comments_submit_many(client=ApiClientFactory(), items=[{"text": text} for text in texts])


def test_the_same_model_compares_equal_and_routes_nothing_differently(candidate, active_version, demo_data):
    submit(["you are an idiot", "lovely weather today", "I will hurt you"])
    comparison = model_versions_compare(candidate=candidate, active=active_version)
    assert comparison.examples > 0 and comparison.excluded == 0
    assert comparison.candidate_macro_f1 == pytest.approx(comparison.active_macro_f1, abs=1e-4)
    assert comparison.route_changes == 0 and comparison.gate_passes
    assert (comparison.traffic_examples, comparison.traffic_route_changes) == (3, 0)
    assert {row.label for row in comparison.per_label} == set(candidate.labels)


def test_a_worse_candidate_needs_an_audited_override(candidate, active_version, demo_data):
    ModelVersion.objects.filter(pk=candidate.pk).update(thresholds=HOPELESS)
    candidate.refresh_from_db()
    admin = AdminFactory()
    with pytest.raises(ValidationError, match="worse than the active version"):
        model_version_promote_gated(version=candidate, promoted_by=admin)
    with pytest.raises(ValidationError, match="Say why"):
        model_version_promote_gated(version=candidate, promoted_by=admin, override=True, reason=" ")
    assert ModelVersion.objects.get(status="active") == active_version
    model_version_promote_gated(version=candidate, promoted_by=admin, override=True, reason="fixes a blind spot")
    assert ModelVersion.objects.get(status="active") == candidate
    event = AuditEvent.objects.get(action="model_version.promote_override")
    assert event.actor == admin and event.after["reason"] == "fixes a blind spot"
    # Rolling back to the retired version is not gated.
    active_version.refresh_from_db()
    model_version_promote_gated(version=active_version, promoted_by=admin)
    assert ModelVersion.objects.get(status="active") == active_version


def test_the_gate_refuses_a_candidate_that_reroutes_most_traffic_and_says_why(
    candidate, active_version, demo_data, settings
):
    """Macro-F1 alone let through a candidate that sent "Have a nice day" to review: the gate
    also weighs live traffic's routes and each label's F1, and names what failed."""
    settings.TOXISCOPE_PROMOTION_MARGIN = 1.0  # macro-F1 alone would pass anything here
    submit(["Have a nice day everyone", "Great photos", "see you at the match", "thanks for sharing"])
    # Flags every label of every comment: every comment's route changes.
    ModelVersion.objects.filter(pk=candidate.pk).update(thresholds=dict.fromkeys(candidate.labels, 0.0))
    candidate.refresh_from_db()
    comparison = model_versions_compare(candidate=candidate, active=active_version)
    assert comparison.traffic_route_changes == comparison.traffic_examples == 4
    assert any("4 of 4 recent comments (100%) would be routed differently" in f for f in comparison.gate_failures)
    with pytest.raises(ValidationError, match="would be routed differently"):
        model_version_promote_gated(version=candidate, promoted_by=AdminFactory())
    assert ModelVersion.objects.get(status="active") == active_version
    settings.TOXISCOPE_PROMOTION_MAX_REROUTE = 1.0
    settings.TOXISCOPE_PROMOTION_LABEL_MARGIN = 1.0
    assert model_versions_compare(candidate=candidate, active=active_version).gate_failures == []


def test_a_shadow_scores_traffic_and_its_disagreement_is_measured(candidate, active_version):
    admin = AdminFactory()
    with pytest.raises(ValidationError):
        model_version_shadow_set(version=active_version, changed_by=admin)
    model_version_shadow_set(version=candidate, changed_by=admin)
    comments = [result.comment for result in submit([f"comment number {i}, you fool" for i in range(8)])]
    assert comments_shadow_score(comment_ids=[c.pk for c in comments]) == 8
    assert comments_shadow_score(comment_ids=[c.pk for c in comments]) == 0  # idempotent
    report = shadow_disagreement(shadow=candidate, active=active_version)
    assert report.compared == 8 and set(report.per_label.values()) == {0.0} and report.sample == []
    ModelVersion.objects.filter(pk=candidate.pk).update(thresholds=HOPELESS)
    candidate.refresh_from_db()
    report = shadow_disagreement(shadow=candidate, active=active_version)
    flagged_by_active = Comment.objects.filter(pk__in=[c.pk for c in comments]).exclude(flagged_labels=[]).count()
    assert max(report.per_label.values()) > 0 or flagged_by_active == 0
    assert Comment.objects.filter(routed_by=candidate).count() == 0  # a shadow never routes
    model_version_promote(version=candidate)
    candidate.refresh_from_db()
    assert not candidate.is_shadow


def test_simulated_thresholds_project_the_daily_queue(active_version):
    submit([f"text {i}" for i in range(10)])
    everything = simulate_thresholds(version=active_version, label="toxic", review=0.0, reject=1.01, days=1)
    assert (everything.traffic, everything.daily_review, everything.daily_auto_reject) == (10, 10.0, 0.0)
    assert everything.validation.recall == 1.0
    rejecting = simulate_thresholds(version=active_version, label="toxic", review=0.0, reject=0.0, days=2)
    assert (rejecting.daily_review, rejecting.daily_auto_reject) == (0.0, 5.0)


def test_saved_thresholds_replace_the_rules_and_keep_the_old_ones():
    admin = AdminFactory()
    threat = Label.objects.get(name="threat")
    before = RoutingRule.objects.get(label=threat, action="review", is_active=True)
    saved = label_thresholds_save(label=threat, review=0.35, reject=0.9, changed_by=admin)
    before.refresh_from_db()
    assert not before.is_active
    active = RoutingRule.objects.filter(label=threat, is_active=True)
    assert {(rule.action, rule.threshold) for rule in active} == {("review", 0.35), ("auto_reject", 0.9)}
    assert saved[0].queue == before.queue  # threats still go to the same queue
    assert AuditEvent.objects.filter(action="routing_rule.create", actor=admin).count() == 2
    with pytest.raises(ValidationError):
        label_thresholds_save(label=threat, review=0.8, reject=0.5, changed_by=admin)


def test_scheduled_retrain_waits_for_enough_new_decisions(settings):
    assert training_retrain_if_due() is None  # off by default
    settings.TOXISCOPE_RETRAIN_MIN_DECISIONS = 2
    moderator = ModeratorFactory()
    Decision.objects.create(comment=CommentFactory(), moderator=moderator, action="reject")
    assert training_retrain_if_due() is None
    Decision.objects.create(comment=CommentFactory(), moderator=moderator, action="approve")
    run = training_retrain_if_due()
    assert run is not None and run.status == "queued" and run.config["auto_promote"] is False
    assert training_retrain_if_due() is None  # the interval has not passed since that run
    TrainingRun.objects.filter(pk=run.pk).update(status="failed")
    Decision.objects.create(comment=CommentFactory(), moderator=moderator, action="reject")
    Decision.objects.create(comment=CommentFactory(), moderator=moderator, action="reject")
    assert training_retrain_if_due() is None
    assert training_retrain_if_due(drifted=True) is not None  # a drifted model does not wait


FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1", "'=quoted", "plain"]


def test_the_csv_export_runs_no_formula_and_imports_back_exactly(tmp_path):
    toxic = Label.objects.get(name="toxic")
    for index, text in enumerate(FORMULAS):
        comment = CommentFactory(text=f"{text} {index}" if index % 2 else text, external_id=f"=id-{index}")
        LabelAnnotationFactory(comment=comment, label=toxic, value=bool(index % 2))
    originals = {c.external_id: c.text for c in Comment.objects.all()}
    path = tmp_path / "labelled.csv"
    call_command("export_comments", str(path), "--format", "csv")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:  # what a spreadsheet reads: no cell that starts like a formula
        assert not row["id"].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert not row["comment_text"].startswith(("=", "+", "-", "@", "\t", "\r"))
    call_command("import_comments", str(path), "--source", "again", "--no-progress")
    again = {c.external_id: c.text for c in Comment.objects.filter(source="again")}
    assert again == originals
    labels = dict(LabelAnnotation.objects.filter(comment__source="again").values_list("comment__external_id", "value"))
    assert labels == {f"=id-{i}": bool(i % 2) for i in range(len(FORMULAS))}
    jsonl = tmp_path / "labelled.jsonl"
    call_command("export_comments", str(jsonl))
    assert {json.loads(line)["text"] for line in jsonl.read_text().splitlines()} >= set(originals.values())


def test_export_writes_jigsaw_csv_with_unknown_racism_and_jsonl_that_imports_again(tmp_path):
    comment = CommentFactory(text="you utter clown", external_id="j-1", source="jigsaw")
    LabelAnnotationFactory(comment=comment, label=Label.objects.get(name="toxic"), value=True)
    LabelAnnotationFactory(comment=comment, label=Label.objects.get(name="insult"), value=False)
    LabelAnnotation.objects.create(
        comment=comment, label=Label.objects.get(name="insult"), value=True, origin="moderator"
    )
    out = io.StringIO()
    call_command("export_comments", "-", "--format", "csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0])[:3] == ["id", "comment_text", "toxic"] and "racism" in rows[0]
    assert rows == [
        {
            "id": "j-1",
            "comment_text": "you utter clown",
            "toxic": "1",
            "severe_toxic": "",
            "obscene": "",
            "threat": "",
            "insult": "1",  # the moderator's value beats the imported one
            "identity_hate": "",
            "racism": "",
            "toxiscope_escaped": "",
        }
    ]
    path = tmp_path / "labelled.jsonl"
    call_command("export_comments", str(path))
    record = json.loads(path.read_text())
    assert record == {
        "id": "j-1",
        "source": "jigsaw",
        "text": "you utter clown",
        "labels": {"toxic": True, "insult": True},
    }
    call_command("import_comments", str(path), "--source", "again", "--no-progress")
    again = Comment.objects.get(source="again")
    assert dict(again.annotations.values_list("label__name", "value")) == {"toxic": True, "insult": True}


def test_the_list_the_comparison_and_the_gate_use_the_same_evaluation_figures(candidate, active_version, demo_data):
    ModelVersion.objects.filter(pk=candidate.pk).update(thresholds=HOPELESS)
    candidate.refresh_from_db()
    comparison = model_versions_compare(candidate=candidate, active=active_version)
    listed_candidate, listed_active = version_evaluation(candidate), version_evaluation(active_version)
    assert comparison.examples == listed_candidate.examples == listed_active.examples == 21
    assert comparison.candidate_macro_f1 == listed_candidate.figures["macro_f1"]
    assert comparison.active_macro_f1 == listed_active.figures["macro_f1"]
    assert not comparison.gate_passes  # the gate reads the comparison
    page = AdminFactory()
    client = Client()
    client.force_login(page)
    overview = client.get(reverse("web:models")).content.decode()
    assert f"{listed_active.figures['macro_f1']:.3f}" in overview and ">21<" in overview


def test_a_comment_a_version_trained_on_is_left_out_of_its_evaluation(active_version, demo_data, monkeypatch):
    evaluated = version_evaluation(active_version)
    some_text = Comment.objects.filter(source="demo").values_list("text", flat=True)
    trained = frozenset(text_key(t) for t in some_text)
    monkeypatch.setattr("moderation.selectors.model_versions._trained_on", lambda version: trained)
    cache.clear()
    assert version_evaluation(active_version) is None and evaluated.examples == 21


def _with_bias(version: ModelVersion, final: float) -> ModelVersion:
    metrics = {**version.metrics, "bias": {"templates": {"final_bias_metric": final}}}
    ModelVersion.objects.filter(pk=version.pk).update(metrics=metrics)
    version.refresh_from_db()
    return version


def test_a_candidate_less_fair_to_identities_needs_an_audited_override(candidate, active_version, settings):
    settings.TOXISCOPE_BIAS_MARGIN = 0.01
    _with_bias(active_version, 0.95)
    _with_bias(candidate, 0.93)  # no evaluation set here: the bias gate stands alone
    admin = AdminFactory()
    with pytest.raises(ValidationError, match="final bias metric 0.930 against the active 0.950"):
        model_version_promote_gated(version=candidate, promoted_by=admin)
    assert ModelVersion.objects.get(status="active") == active_version
    model_version_promote_gated(version=candidate, promoted_by=admin, override=True, reason="new labels matter more")
    event = AuditEvent.objects.get(action="model_version.promote_override")
    assert event.before["active_final_bias_metric"] == 0.95
    assert event.after["candidate_final_bias_metric"] == 0.93


def test_a_candidate_within_the_bias_margin_is_promoted(candidate, active_version, settings):
    settings.TOXISCOPE_BIAS_MARGIN = 0.01
    _with_bias(active_version, 0.95)
    _with_bias(candidate, 0.945)
    model_version_promote_gated(version=candidate, promoted_by=AdminFactory())
    assert ModelVersion.objects.get(status="active") == candidate


def test_unreliable_labels_come_from_the_versions_evidence(active_version):
    ModelVersion.objects.filter(pk=active_version.pk).update(metrics={})
    active_version.refresh_from_db()
    assert active_version.unreliable_labels == []  # made before evidence was recorded
    evidence = {label: {"reliable": label != "threat"} for label in active_version.labels}
    ModelVersion.objects.filter(pk=active_version.pk).update(metrics={"evidence": evidence})
    active_version.refresh_from_db()
    assert active_version.unreliable_labels == ["threat"]


def test_every_version_has_a_bias_report_on_the_evaluation_set(active_version, demo_data):
    from moderation.selectors import training_data

    evaluation = version_evaluation(active_version)
    known = [e for e in training_data.evaluation_examples(labels=["toxic"]) if "toxic" in e.labels]
    assert evaluation.bias["examples"] == len(known) > 0
    assert {"final_bias_metric", "terms", "non_toxic_identity_flag_rate"} <= set(evaluation.bias)
