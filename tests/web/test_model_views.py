"""The admins' model pages through Django's test client."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from moderation.models import AuditEvent, Decision, DriftSnapshot, ModelVersion, RoutingRule, TrainingRun
from moderation.selectors.model_versions import version_evaluation
from moderation.services.model_versions import model_version_install, model_version_measure, model_version_promote
from tests.factories import AdminFactory, CommentFactory, LabelAnnotationFactory, ModeratorFactory, install_version
from training.config import PRETRAINED_PRESET

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    client = Client()
    client.force_login(AdminFactory())
    return client


@pytest.fixture
def candidate(trained_artifact, artifacts_dir, active_version):
    return install_version(trained_artifact, artifacts_dir, "candidate", status="candidate")


def test_moderators_cannot_reach_the_model_pages(active_version):
    client = Client()
    client.force_login(ModeratorFactory())
    for url in (reverse("web:models"), reverse("web:retrain"), reverse("web:version", args=[active_version.pk])):
        assert client.get(url).status_code == 403
    assert client.post(reverse("web:promote", args=[active_version.pk])).status_code == 403


def test_models_page_lists_versions_with_their_metrics(admin, active_version, candidate):
    page = admin.get(reverse("web:models")).content.decode()
    assert "tiny-active" in page and "candidate" in page and active_version.data_hash[:12] in page


def _field(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


def test_retrain_form_shows_the_base_models_preset_and_starts_a_run(admin):
    form = admin.get(reverse("web:retrain")).content.decode()
    # Blank settings showing the preset that a blank one takes (lr, batch, max length).
    for name, preset in (("lr", "0.0005"), ("batch_size", "16"), ("max_len", "128")):
        assert f'placeholder="{preset}"' in _field(form, name) and "value=" not in _field(form, name)
    assert 'type="date"' in _field(form, "since") and 'type="date"' in _field(form, "until")
    # Switching the base model asks for its preset; what the admin typed stays.
    minilm = admin.get(reverse("web:retrain"), {"base_model": "minilm", "batch_size": "8"}).content.decode()
    assert f'placeholder="{PRETRAINED_PRESET["lr"]}"' in _field(minilm, "lr") and "value=" not in _field(minilm, "lr")
    assert f'placeholder="{PRETRAINED_PRESET["max_epochs"]}"' in _field(minilm, "max_epochs")
    assert 'value="8"' in _field(minilm, "batch_size")
    assert "<strong>minilm</strong>'s preset" in minilm
    data = {
        "base_model": "scratch",
        "origins": ["imported", "moderator"],
        "max_epochs": 2,
        "lr": 0.003,
        "batch_size": 16,
        "max_len": 64,
        "patience": 2,
        "focal_gamma": 2,
        "focal_alpha": 0.25,
        "seed": 7,
        "advanced": '{"vocab_size": 800, "scratch_layers": 1}',
    }
    response = admin.post(reverse("web:retrain"), data)
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("web:run", args=[run.pk])
    assert run.config["training"]["vocab_size"] == 800 and run.config["training"]["lr"] == 0.003
    assert run.config["data"]["origins"] == ["imported", "moderator"] and run.config["data"]["sources"] == []


def test_retrain_can_distil_from_a_version_and_blank_settings_take_the_presets(admin, active_version):
    data = {"base_model": "minilm", "origins": ["imported"], "teacher": active_version.name}
    response = admin.post(reverse("web:retrain"), data)
    run = TrainingRun.objects.get()
    assert response.status_code == 302
    training = run.config["training"]
    assert training["teacher"] == active_version.name
    assert (training["lr"], training["max_epochs"]) == (PRETRAINED_PRESET["lr"], PRETRAINED_PRESET["max_epochs"])
    response = admin.post(reverse("web:retrain"), data | {"teacher": "no-such-version"})
    assert response.status_code == 400 and TrainingRun.objects.count() == 1


def test_retrain_on_one_communitys_comments(admin):
    LabelAnnotationFactory(comment__source="olid", comment__text="@USER what a clown")
    form = admin.get(reverse("web:retrain")).content.decode()
    assert 'name="sources" value="olid"' in form
    admin.post(reverse("web:retrain"), {"base_model": "scratch", "origins": ["imported"], "sources": ["olid"]})
    assert TrainingRun.objects.get().config["data"]["sources"] == ["olid"]
    refused = admin.post(reverse("web:retrain"), {"base_model": "scratch", "origins": ["imported"], "sources": ["x"]})
    assert refused.status_code == 400 and TrainingRun.objects.count() == 1


def test_retrain_with_bad_options_is_a_400_with_the_messages(admin):
    """The form has no limits of its own: TrainConfig's checks answer, as on the CLI."""
    form = {"base_model": "scratch", "origins": ["imported"], "lr": 5e-4, "batch_size": 16, "max_len": 64}
    form |= {"patience": 2, "focal_gamma": 2, "focal_alpha": 0.25, "seed": 1}
    bad = form | {"max_epochs": 0, "advanced": '{"no_such_option": 1}'}
    response = admin.post(reverse("web:retrain"), bad)
    assert response.status_code == 400 and not TrainingRun.objects.exists()
    page = response.content.decode()
    assert "max_epochs: must be at least 1" in page and "no_such_option: unknown setting" in page
    backwards = form | {"max_epochs": 2, "since": "2026-05-02", "until": "2026-05-01"}
    response = admin.post(reverse("web:retrain"), backwards)
    assert response.status_code == 400 and "before its start" in response.content.decode()
    # A base model directory that is not there is said now, not as a traceback on the run page.
    missing = form | {"max_epochs": 2, "base_model": "/nowhere/my-model"}
    response = admin.post(reverse("web:retrain"), missing)
    assert response.status_code == 400 and "base model directory &#x27;/nowhere/my-model&#x27; does not exist" in (
        response.content.decode()
    )
    assert not TrainingRun.objects.exists()


def test_run_page_polls_its_progress_until_it_finishes(admin):
    run = TrainingRun.objects.create(status="running", epoch=2, total_epochs=4, step=5, total_steps=10)
    partial = admin.get(reverse("web:run", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "37.5 %" in partial and 'hx-trigger="every 1s"' in partial and "<html" not in partial
    TrainingRun.objects.filter(pk=run.pk).update(status="cancelled")
    done = admin.get(reverse("web:run", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in done
    admin.post(reverse("web:run-cancel", args=[run.pk]))  # already finished: a message, no change
    assert TrainingRun.objects.get(pk=run.pk).status == "cancelled"


def test_the_run_page_says_what_a_run_does_after_its_epochs(admin, active_version):
    started = timezone.now() - timedelta(seconds=60)
    run = TrainingRun.objects.create(
        status="running", phase="train", epoch=2, total_epochs=2, step=10, total_steps=10, started_at=started
    )
    TrainingRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=75))
    url = reverse("web:run", args=[run.pk])
    training = admin.get(url, HTTP_HX_REQUEST="true").content.decode()
    # The header is inside the polled card: it ticks, in seconds, with the rest.
    assert (
        "about 1 s" in training
        and "requested by the schedule a minute ago" in training
        and "transformer alone" in training
    )
    TrainingRun.objects.filter(pk=run.pk).update(phase="calibrate")
    calibrating = admin.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "about " not in calibrating and "training is done" in calibrating
    assert "choosing each label&#x27;s threshold" in calibrating
    TrainingRun.objects.filter(pk=run.pk).update(
        status="succeeded", val_macro_f1=0.68, finished_at=timezone.now(), model_version=active_version
    )
    done = admin.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "0.680" in done and "at each label's calibrated threshold" in done


def test_version_page_and_its_plots(admin, active_version):
    page = admin.get(reverse("web:version", args=[active_version.pk])).content.decode()
    assert "Validation split metrics" in page
    for kind in ("learning-curve", "pr-curves", "histograms", "reliability"):
        plot = admin.get(reverse("web:version-plot", args=[active_version.pk, kind]))
        assert plot.status_code == 200 and plot["Content-Type"] == "image/svg+xml"
        assert plot.content.lstrip().startswith(b"<?xml") and b"<svg" in plot.content
    assert admin.get(reverse("web:version-plot", args=[active_version.pk, "pie-chart"])).status_code == 404


def test_the_models_page_charts_disagreement_and_drift_over_time(admin, active_version, candidate):
    for kind in ("disagreement", "drift"):
        assert admin.get(reverse("web:models-chart", args=[kind])).status_code == 404  # nothing yet
        assert reverse("web:models-chart", args=[kind]) not in admin.get(reverse("web:models")).content.decode()
    comment = CommentFactory(flagged_labels=["toxic"], route_action="review")
    Decision.objects.create(comment=comment, moderator=ModeratorFactory(), action="approve", labels={"toxic": False})
    model_version_promote(version=candidate, promoted_by=AdminFactory())
    for day, psi in ((1, 0.05), (2, 0.4)):
        DriftSnapshot.objects.create(
            model_version=ModelVersion.objects.get(status="active"),
            day=timezone.localdate() - timedelta(days=3 - day),
            comments=60,
            labels={"toxic": psi},
            length_psi=0.1,
            alarms=["toxic scores (index 0.40)"] if psi > 0.25 else [],
        )
    page = admin.get(reverse("web:models")).content.decode()
    for kind in ("disagreement", "drift"):
        assert reverse("web:models-chart", args=[kind]) in page
        chart = admin.get(reverse("web:models-chart", args=[kind]))
        assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml" and b"<svg" in chart.content
    assert b"candidate" in admin.get(reverse("web:models-chart", args=["disagreement"])).content  # promoted, marked
    assert admin.get(reverse("web:models-chart", args=["pie"])).status_code == 404
    moderator = Client()
    moderator.force_login(ModeratorFactory())
    assert moderator.get(reverse("web:models-chart", args=["drift"])).status_code == 403


def test_each_figure_names_its_set(admin, active_version, demo_data, monkeypatch):
    from django.core.cache import cache

    from moderation.selectors import model_versions

    monkeypatch.setattr(model_versions, "LANGUAGE_MIN_EVALUATED", 5)  # the demo set is small

    page = admin.get(reverse("web:version", args=[active_version.pk])).content.decode()
    assert "Not measured yet" in page and cache.get(f"measure-requested:{active_version.pk}")
    model_version_measure(version_id=active_version.pk)  # what the worker does
    evaluation = version_evaluation(active_version, compute=False)
    macro_f1 = f"{evaluation.figures['macro_f1']:.3f}"
    overview = admin.get(reverse("web:models")).content.decode()
    assert '<th colspan="5" class="group">On the evaluation set</th>' in overview and macro_f1 in overview
    page = admin.get(reverse("web:version", args=[active_version.pk])).content.decode()
    assert f'On the evaluation set <span class="muted">macro-F1 {macro_f1}' in page
    assert "Validation split metrics" in page and "chose its thresholds and calibration on" in page
    # The languages it serves, what it learnt from, and its ranking per language.
    assert "serves <strong>en</strong>" in page and "labelled comments learnt from: en " in page
    assert f"by language: en {evaluation.by_language['en']['macro_auc']:.3f}" in page


def test_compare_then_promote_then_roll_back(admin, active_version, candidate, demo_data, monkeypatch):
    from django.core.cache import cache

    from moderation.selectors import model_versions

    scores = model_versions._scores

    def refused(*args, **kwargs):
        raise AssertionError("a request scored the evaluation set")

    # Not measured yet: the page says so and asks a worker; promoting waits, changing nothing.
    monkeypatch.setattr(model_versions, "_scores", refused)
    page = admin.get(reverse("web:compare", args=[candidate.pk])).content.decode()
    assert 'id="comparing"' in page and cache.get(f"measure-requested:{candidate.pk}")
    answer = admin.post(reverse("web:promote", args=[candidate.pk]), follow=True).content.decode()
    assert "still being compared" in answer and ModelVersion.objects.get(status="active") == active_version
    monkeypatch.setattr(model_versions, "_scores", scores)
    model_version_measure(version_id=candidate.pk)  # what the worker does
    monkeypatch.setattr(model_versions, "_scores", refused)
    page = admin.get(reverse("web:compare", args=[candidate.pk])).content.decode()
    assert "The quality gate passes" in page and "Routes that would change" in page
    assert "bias gate fails" not in page
    admin.post(reverse("web:promote", args=[candidate.pk]))
    assert ModelVersion.objects.get(status="active") == candidate
    page = admin.get(reverse("web:version", args=[candidate.pk])).content.decode()
    assert "Roll back to tiny-active" in page
    admin.post(reverse("web:promote", args=[active_version.pk]))
    assert ModelVersion.objects.get(status="active") == active_version
    assert AuditEvent.objects.filter(action="model_version.promote").count() == 2


def test_a_failing_gate_shows_and_needs_an_override(admin, active_version, candidate, demo_data):
    ModelVersion.objects.filter(pk=candidate.pk).update(thresholds=dict.fromkeys(candidate.labels, 0.999))
    model_version_measure(version_id=candidate.pk)
    assert "The quality gate fails" in admin.get(reverse("web:compare", args=[candidate.pk])).content.decode()
    admin.post(reverse("web:promote", args=[candidate.pk]))
    assert ModelVersion.objects.get(status="active") == active_version
    admin.post(reverse("web:promote", args=[candidate.pk]), {"override": "on", "reason": "urgent fix"})
    assert ModelVersion.objects.get(status="active").pk == candidate.pk


def test_the_version_page_shows_evidence_bias_worst_first_and_robustness(admin, active_version):
    page = admin.get(reverse("web:version", args=[active_version.pk])).content.decode()
    bias = active_version.metrics["bias"]["templates"]
    assert "Evidence per label" in page and "final bias metric" in page and "Disguised insults" in page
    assert f"{bias['final_bias_metric']:.3f}" in page
    terms = [entry["term"] for entry in bias["terms"]]
    table = page[page.index('class="grid bias"') :]
    positions = [table.index(f"<td>{term}</td>") for term in terms]
    assert positions == sorted(positions)  # worst first, as the report orders them
    for label in active_version.unreliable_labels:
        assert f"<tr><td>{label}</td>" in page
    assert page.count("not reliable</strong>") == len(active_version.unreliable_labels)


def test_the_version_page_shows_the_evaluation_sets_bias_without_scoring_it(
    admin, active_version, demo_data, monkeypatch
):
    from moderation.selectors import model_versions

    scores = model_versions._scores

    def refused(*args, **kwargs):
        raise AssertionError("the version page scored the evaluation set")

    monkeypatch.setattr(model_versions, "_scores", refused)
    page = admin.get(reverse("web:version", args=[active_version.pk])).content.decode()
    assert "Not measured yet" in page and "<h3>On the evaluation set" not in page
    admin.get(reverse("web:models"))  # the list asks a worker to measure it: no request scores
    monkeypatch.setattr(model_versions, "_scores", scores)
    model_version_measure(version_id=active_version.pk)
    monkeypatch.setattr(model_versions, "_scores", refused)
    page = admin.get(reverse("web:version", args=[active_version.pk])).content.decode()
    assert "On the evaluation set: too few" in page  # the demo set mentions few identities


def test_a_less_fair_candidate_fails_the_bias_gate_on_the_compare_page(admin, active_version, candidate, demo_data):
    for version, final in ((active_version, 0.96), (candidate, 0.90)):
        metrics = {
            **version.metrics,
            "bias": {"templates": {**version.metrics["bias"]["templates"], "final_bias_metric": final}},
        }
        ModelVersion.objects.filter(pk=version.pk).update(metrics=metrics)
    model_version_measure(version_id=candidate.pk)
    page = admin.get(reverse("web:compare", args=[candidate.pk])).content.decode()
    assert "The bias gate fails: final bias metric 0.900 against the active 0.960" in page
    assert 'name="override"' in page
    admin.post(reverse("web:promote", args=[candidate.pk]))
    assert ModelVersion.objects.get(status="active") == active_version
    admin.post(reverse("web:promote", args=[candidate.pk]), {"override": "on", "reason": "labels we need"})
    assert ModelVersion.objects.get(status="active").pk == candidate.pk


def test_shadow_toggle(admin, candidate):
    admin.post(reverse("web:shadow", args=[candidate.pk]), {"enable": "1"})
    assert ModelVersion.objects.get(is_shadow=True) == candidate
    page = admin.get(reverse("web:version", args=[candidate.pk])).content.decode()
    # Where an admin deciding on the candidate looks: above the figures and plots.
    assert "Shadow disagreement" in page and page.index('id="shadow"') < page.index('id="evaluation-set"')
    admin.post(reverse("web:shadow", args=[candidate.pk]), {"enable": "0"})
    assert not ModelVersion.objects.filter(is_shadow=True).exists()
    # Stopping when nothing shadows (a second tab, a double click) changes nothing.
    events = AuditEvent.objects.count()
    assert admin.post(reverse("web:shadow", args=[candidate.pk]), {"enable": "0"}).status_code == 302
    assert AuditEvent.objects.count() == events


def test_int8_serving_is_a_per_version_switch_with_its_measured_change(admin, active_version):
    from moderation.engine.scoring import active_model

    page = admin.get(reverse("web:version", args=[active_version.pk])).content.decode()
    forms = active_version.metrics["served_forms"]
    assert f"{forms['onnx']['macro_roc_auc']:.4f}" in page and "Serve int8-quantised" in page
    assert active_model.get().scorer.runtime == "onnx"
    admin.post(reverse("web:int8", args=[active_version.pk]), {"enable": "1"})
    assert ModelVersion.objects.get(pk=active_version.pk).int8
    assert AuditEvent.objects.filter(action="model_version.int8", target_id=str(active_version.pk)).exists()
    active_model.invalidate()
    assert active_model.get().scorer.runtime == "onnx-int8"  # every process, at its next check
    admin.post(reverse("web:int8", args=[active_version.pk]), {"enable": "0"})
    active_model.invalidate()
    assert active_model.get().scorer.runtime == "onnx"


def test_the_cascade_is_a_per_version_switch_shown_with_its_band_and_figures(
    admin, cascaded_artifact, artifacts_dir, demo_data
):
    from moderation.engine.scoring import active_model

    version = model_version_promote(version=model_version_install(source=cascaded_artifact, name="cascaded"))
    assert version_evaluation(version) is not None
    page = admin.get(reverse("web:version", args=[version.pk])).content.decode()
    assert "Scores with a cascade" in page and "Turn the cascade off" in page
    assert "final bias metric, identity templates" in page and "Sure not, below" in page
    assert active_model.get().scorer.band is not None
    admin.post(reverse("web:cascade", args=[version.pk]), {"enable": "0"})
    assert not ModelVersion.objects.get(pk=version.pk).cascade
    assert AuditEvent.objects.filter(action="model_version.cascade", target_id=str(version.pk)).exists()
    active_model.invalidate()
    assert active_model.get().scorer.band is None  # every process reads every comment again
    # Its figures on the evaluation set were measured with the cascade: measured afresh without.
    assert version_evaluation(ModelVersion.objects.get(pk=version.pk), compute=False) is None
    assert "Turn the cascade on" in admin.get(reverse("web:version", args=[version.pk])).content.decode()


def test_simulator_recomputes_and_saves_rules(admin, active_version):
    url = reverse("web:simulator", args=[active_version.pk])
    assert "Threshold simulator" in admin.get(url).content.decode()
    partial = admin.get(url, {"label": "threat", "review": 0.3, "reject": 0.8, "days": 7}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "review at 0.30" in partial.content.decode()
    bad = admin.get(url, {"label": "threat", "review": 0.9, "reject": 0.2, "days": 7}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "must be at or above the review threshold" in bad.content.decode()
    page = admin.get(url).content.decode()
    # The live preview sends no CSRF token in its GET URL, and no inline handler (the CSP has none).
    assert 'hx-params="not csrfmiddlewaretoken"' in page and not re.search(r"\son[a-z]+=", page)
    admin.post(url, {"label": "threat", "review": 0.3, "reject": 0.8, "days": 7})
    rules = RoutingRule.objects.filter(label__name="threat", is_active=True)
    assert {(rule.action, rule.threshold) for rule in rules} == {("review", 0.3), ("auto_reject", 0.8)}


def test_the_simulator_opens_on_the_saved_thresholds(admin, active_version):
    url = reverse("web:simulator", args=[active_version.pk])
    admin.post(url, {"label": "toxic", "review": 0.28, "reject": 0.94, "days": 7})
    page = admin.get(f"{url}?label=toxic").content.decode()
    assert 'name="review" min="0" max="1" step="0.01" value="0.28"' in page
    assert 'name="reject" min="0" max="1" step="0.01" value="0.94"' in page
    assert "review at 0.28, auto-reject at 0.94 (chosen on tiny-active)" in page
    assert RoutingRule.objects.filter(label__name="toxic", is_active=True, tuned_on=active_version).count() == 2
    # Another label, never saved, still opens on the version's calibrated threshold.
    threat = admin.get(f"{url}?label=threat").content.decode()
    assert f'value="{active_version.thresholds["threat"]:.2f}"' in threat and 'value="1.00"' in threat


def test_a_rollback_names_the_thresholds_chosen_on_another_version(admin, active_version, candidate):
    model_version_promote(version=candidate, promoted_by=None)
    admin.post(
        reverse("web:simulator", args=[candidate.pk]), {"label": "toxic", "review": 0.28, "reject": 0.94, "days": 7}
    )
    page = admin.get(reverse("web:version", args=[candidate.pk])).content.decode()
    carried = page[page.index('id="thresholds-carried-over"') :]
    assert "Roll back to tiny-active" in page and "The fixed thresholds of toxic" in page
    assert "review at 0.28, auto-reject at 0.94" in carried and "chosen on candidate" in carried
    # Thresholds chosen on the version rolled back to carry nothing over that it was not tuned on.
    admin.post(
        reverse("web:simulator", args=[active_version.pk]), {"label": "toxic", "review": 0.3, "reject": 0.9, "days": 7}
    )
    page = admin.get(reverse("web:version", args=[candidate.pk])).content.decode()
    assert "Roll back to tiny-active" in page and "thresholds-carried-over" not in page


def test_the_simulator_says_a_candidate_has_no_traffic_yet(admin, candidate):
    page = admin.get(reverse("web:simulator", args=[candidate.pk])).content.decode()
    assert "has not scored live traffic" in page and "Comments scored" not in page


def test_export_downloads(admin):
    LabelAnnotationFactory(comment__text="hello there", comment__external_id="e1")
    csv_response = admin.get(reverse("web:export", args=["csv"]))
    assert csv_response["Content-Disposition"].endswith('.csv"')
    assert csv_response.content.decode().splitlines()[1].startswith("e1,hello there,1")
    jsonl = admin.get(reverse("web:export", args=["jsonl"])).content.decode()
    assert '"labels": {"toxic": true}' in jsonl


def test_an_admin_uploads_a_communitys_own_export_with_a_mapping(admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from moderation.models import Comment, LabelAnnotation

    url = reverse("web:import")
    assert "Label rules (--label)" in admin.get(url).content.decode()
    tsv = "id\ttweet\tsubtask_a\n1\t@USER you are a clown\tOFF\n2\tnice game\tNOT\n"
    form = {"source": "olid-like", "text": "tweet", "id": "id", "labels": "toxic=subtask_a:OFF/NOT\n", "language": "en"}
    bad = admin.post(url, form | {"file": SimpleUploadedFile("tweets.tsv", (tsv + "3\tfine\tMAYBE\n").encode())})
    # One row cannot be read: the page says which, and nothing is stored.
    assert (
        bad.status_code == 400 and "line 4" in bad.content.decode() and "nothing was imported" in bad.content.decode()
    )
    assert not Comment.objects.exists()
    wrong = admin.post(url, form | {"text": "text", "file": SimpleUploadedFile("tweets.tsv", tsv.encode())})
    assert wrong.status_code == 400 and "text" in wrong.content.decode() and not Comment.objects.exists()
    done = admin.post(url, form | {"file": SimpleUploadedFile("tweets.tsv", tsv.encode())})
    assert done.status_code == 200 and 'id="import-summary"' in done.content.decode()
    assert Comment.objects.filter(source="olid-like", language="en").count() == 2
    toxic = LabelAnnotation.objects.filter(label__name="toxic", origin="imported")
    assert sorted(toxic.values_list("comment__external_id", "value")) == [("1", True), ("2", False)]
    repeated = tsv + "1\tthe same id again\tOFF\n"
    twice = admin.post(url, form | {"source": "other", "file": SimpleUploadedFile("t.tsv", repeated.encode())})
    assert "1 row skipped: line 4: duplicate id" in twice.content.decode()
    again = admin.post(url, form | {"file": SimpleUploadedFile("tweets.tsv", tsv.encode())})
    assert "0</strong> comments imported" in again.content.decode() and Comment.objects.count() == 4


def test_an_upload_over_the_request_limit_is_refused(admin, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    upload = SimpleUploadedFile("big.csv", b"id,comment_text,toxic\n" + b"1,hello there,0\n" * 20)
    refused = admin.post(reverse("web:import"), {"source": "big", "file": upload})
    assert refused.status_code == 400 and "import it with manage.py import_comments" in refused.content.decode()


def test_only_admins_upload(active_version):
    client = Client()
    client.force_login(ModeratorFactory())
    assert client.get(reverse("web:import")).status_code == 403
