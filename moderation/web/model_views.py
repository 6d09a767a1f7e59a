"""The admins' model pages: versions, retraining with live progress, plots, comparison,
promotion and rollback, shadow mode, the threshold simulator, export."""

import io
import tempfile
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moderation.exporting import labelled_export
from moderation.importing import ImportFormatError, check_whole, detect_format, file_reader
from moderation.messages import validation_messages
from moderation.models import Label, ModelVersion, TrainingRun
from moderation.selectors.disagreement import disagreement_by_week
from moderation.selectors.drift import drift_history
from moderation.selectors.model_versions import (
    PENDING,
    bias_gate_failure,
    int8_change,
    model_versions_compare,
    shadow_disagreement,
    simulate_thresholds,
    training_run_progress,
    version_evaluation,
    version_replaced_by,
)
from moderation.selectors.routing_rules import fixed_thresholds, thresholds_tuned_elsewhere
from moderation.services.imports import comments_import
from moderation.services.model_versions import (
    model_version_measure_later,
    model_version_promote_gated,
    model_version_set_cascade,
    model_version_set_int8,
    model_version_shadow_set,
)
from moderation.services.routing_rules import label_thresholds_save
from moderation.services.training import training_config_build, training_run_cancel, training_run_start
from moderation.web.access import admin_required, is_htmx
from moderation.web.forms import ImportForm, PromoteForm, RetrainForm, SimulatorForm
from moderation.web.plots import KINDS, disagreement_svg, drift_svg, plot_svg
from training.base_models import BUILT_IN
from training.data import EVALUATION_SHARE


@require_GET
@admin_required
def models_overview(request):
    versions = list(ModelVersion.objects.select_related("created_by").order_by("-created_at"))
    active = next((v for v in versions if v.status == ModelVersion.Status.ACTIVE), None)
    drift = drift_history(active, days=14)[::-1] if active else []
    # Read what a worker measured; a version not measured yet is sent to one, never scored here.
    measured = [(version, version_evaluation(version, compute=False)) for version in versions]
    for version, evaluation in measured:
        if evaluation is None:
            model_version_measure_later(version_id=version.pk)
    return render(
        request,
        "moderation/web/models/overview.html",
        {
            "active": active,
            "versions": measured,
            "evaluation_share": f"{EVALUATION_SHARE:.0%}",
            "runs": TrainingRun.objects.select_related("model_version", "requested_by")[:10],
            "disagreement": disagreement_by_week(),
            "drift": drift,
            "drift_alert": settings.TOXISCOPE_DRIFT_PSI_ALERT,
            "drift_days": settings.TOXISCOPE_DRIFT_DAYS,
        },
    )


@require_http_methods(["GET", "POST"])
@admin_required
def retrain(request):
    defaults = training_config_build().to_dict()
    # The hyper-parameters start blank, showing the chosen base model's preset, which a blank
    # one takes: the form asks again (htmx) when the base model changes, keeping typed values.
    base = request.POST.get("base_model") or request.GET.get("base_model") or defaults["base_model"]
    try:
        preset = training_config_build({"base_model": base}).to_dict()
    except ValidationError:
        preset = defaults
    typed = {name: value for name, value in request.GET.items() if name in RetrainForm.MAIN_FIELDS and value}
    initial = {"base_model": base, "seed": defaults["seed"], "advanced": {}} | typed
    form = RetrainForm(request.POST or None, initial=initial, preset=preset)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = training_run_start(
                    config=form.training_config(), data=form.data_options(), requested_by=request.user
                )
            except ValidationError as exc:
                form.add_error(None, validation_messages(exc))
            else:
                return redirect("web:run", run.pk)
        status = 400
    return render(
        request,
        "moderation/web/models/retrain.html",
        {"form": form, "base": base, "base_models": dict.fromkeys((*BUILT_IN, defaults["base_model"]))},
        status=status,
    )


@require_GET
@admin_required
def run_detail(request, run_id: int):
    run = get_object_or_404(TrainingRun.objects.select_related("model_version", "requested_by"), pk=run_id)
    # The progress poll swaps in the progress card only.
    template = "moderation/web/models/_progress.html" if is_htmx(request) else "moderation/web/models/run.html"
    return render(request, template, {"run": run, "progress": training_run_progress(run)})


@require_POST
@admin_required
def run_cancel(request, run_id: int):
    run = get_object_or_404(TrainingRun, pk=run_id)
    try:
        training_run_cancel(run=run, cancelled_by=request.user)
    except ValidationError as exc:
        messages.error(request, validation_messages(exc))
    else:
        messages.info(request, "Cancelling: the worker stops at its next step.")
    return redirect("web:run", run.pk)


@require_GET
@admin_required
def version_detail(request, version_id: int):
    version = get_object_or_404(ModelVersion.objects.select_related("created_by", "parent"), pk=version_id)
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    model_metrics = (version.metrics.get("model") or {}).get("calibrated") or {}
    probabilities = (version.metrics.get("model") or {}).get("probabilities") or {}
    rollback_to = version_replaced_by(version) if version.status == ModelVersion.Status.ACTIVE else None
    # The models list measures every version; this page shows that figure once it exists and
    # never scores the evaluation set itself.
    evaluation = version_evaluation(version, compute=False)
    if evaluation is None:
        model_version_measure_later(version_id=version.pk)
    trained_bias = version.metrics.get("bias") or {}
    bias_reports = [
        (where, report)
        for where, report in (
            ("On this project's identity templates", trained_bias.get("templates")),
            ("On the validation split", trained_bias.get("validation")),
            ("On the evaluation set", evaluation.bias if evaluation else None),
        )
        if report
    ]
    return render(
        request,
        "moderation/web/models/version.html",
        {
            "version": version,
            "active": active,
            "per_label": [
                (label, model_metrics["labels"][label], probabilities.get(label, {}))
                for label in version.labels
                if label in model_metrics.get("labels", {})
            ],
            "summary": model_metrics,
            "baseline": ((version.metrics.get("baseline") or {}).get("calibrated") or {}),
            "kinds": KINDS,
            "rollback_to": rollback_to,
            "shadow": shadow_disagreement(shadow=version, active=active) if version.is_shadow and active else None,
            "run": TrainingRun.objects.filter(model_version=version).first(),
            "int8_change": int8_change(version),
            "cascade_trust": [
                (name, values.get("full"), values.get("cascade"))
                for figure, name in CASCADE_TRUST.items()
                if (values := ((version.metrics.get("cascade") or {}).get("trust") or {}).get(figure))
            ],
            "bias_reports": bias_reports,
            "evaluation": evaluation,
            "served_languages": sorted(version.served_languages),
            "learnt_languages": sorted((version.metrics.get("languages") or {}).items(), key=lambda item: -item[1]),
            "language_min": settings.TOXISCOPE_LANGUAGE_MIN_COMMENTS,
            "carried_over": thresholds_tuned_elsewhere(rollback_to) if rollback_to else [],
        },
    )


@require_GET
@admin_required
def models_chart(request, kind: str):
    """The models page's charts: disagreement by week, the active version's drift by day."""
    if kind == "disagreement":
        svg = disagreement_svg(disagreement_by_week())
    elif kind == "drift":
        active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
        svg = drift_svg(drift_history(active) if active else [], settings.TOXISCOPE_DRIFT_PSI_ALERT)
    else:
        raise Http404("no such chart")
    if svg is None:
        raise Http404("nothing to chart yet")
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
@admin_required
def version_plot(request, version_id: int, kind: str):
    version = get_object_or_404(ModelVersion, pk=version_id)
    if kind not in KINDS:
        raise Http404("no such plot")
    svg = plot_svg(version, kind)
    if svg is None:
        raise Http404("this version's artifact has no data for that plot")
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
@admin_required
def compare(request, version_id: int):
    version = get_object_or_404(ModelVersion, pk=version_id)
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    comparison = bias_failure = None
    pending = False
    if active is not None and active != version:
        comparison = model_versions_compare(candidate=version, active=active, compute=False)
        bias_failure = bias_gate_failure(candidate=version, active=active)
        if comparison == PENDING:
            comparison, pending = None, True
            model_version_measure_later(version_id=version.pk)
    return render(
        request,
        "moderation/web/models/compare.html",
        {
            "version": version,
            "active": active,
            "pending": pending,
            "comparison": comparison,
            "bias_failure": bias_failure,
            "form": PromoteForm(),
            "carried_over": thresholds_tuned_elsewhere(version),
        },
    )


@require_POST
@admin_required
def promote(request, version_id: int):
    version = get_object_or_404(ModelVersion, pk=version_id)
    form = PromoteForm(request.POST)
    form.is_valid()  # two optional fields: always valid
    try:
        model_version_promote_gated(
            version=version,
            promoted_by=request.user,
            override=form.cleaned_data.get("override", False),
            reason=form.cleaned_data.get("reason", ""),
            compute=False,
        )
    except ValidationError as exc:
        messages.error(request, validation_messages(exc))
        return redirect("web:compare", version.pk)
    messages.success(request, f"{version.name} is now the active version; every server uses it within seconds.")
    return redirect("web:version", version.pk)


@require_POST
@admin_required
def shadow(request, version_id: int):
    version = get_object_or_404(ModelVersion, pk=version_id)
    enable = request.POST.get("enable") == "1"
    try:
        model_version_shadow_set(version=version if enable else None, changed_by=request.user)
    except ValidationError as exc:
        messages.error(request, validation_messages(exc))
    else:
        messages.info(
            request, f"{version.name} {'now scores' if enable else 'no longer scores'} live traffic in shadow."
        )
    return redirect("web:version", version.pk)


# The figures the cascade is measured beside the full blend by (training/cascade.py trust_beside).
CASCADE_TRUST = {
    "final_bias_metric": "final bias metric, identity templates",
    "caught_as_written": "toxic comments caught as written",
    "worst_disguise": "still caught under the worst disguise",
}


# How a version is served, each an audited switch on its page: the service, and what each
# position means.
SERVING_SWITCHES = {
    "int8": (model_version_set_int8, ("at full precision", "int8-quantised")),
    "cascade": (model_version_set_cascade, ("reading every comment with the transformer", "with its cascade")),
}


@require_POST
@admin_required
def serving(request, version_id: int, switch: str):
    version = get_object_or_404(ModelVersion, pk=version_id)
    enable = request.POST.get("enable") == "1"
    service, meanings = SERVING_SWITCHES[switch]
    service(version=version, changed_by=request.user, **{switch: enable})
    messages.info(request, f"{version.name} is served {meanings[enable]}.")
    return redirect("web:version", version.pk)


@require_http_methods(["GET", "POST"])
@admin_required
def simulator(request, version_id: int):
    version = get_object_or_404(ModelVersion, pk=version_id)
    label = request.GET.get("label") or version.labels[0]
    saved = fixed_thresholds().get(label)
    calibrated = version.thresholds.get(label, 0.5)
    defaults = {
        "label": label,
        "review": saved.review if saved and saved.review is not None else calibrated,
        "reject": saved.reject if saved and saved.reject is not None else 1.0,
        "days": 7,
    }
    # Always bound: the page opens on the label's saved thresholds, else its calibrated threshold
    # and no auto-reject.
    form = SimulatorForm(
        request.POST if request.method == "POST" else defaults | request.GET.dict(), labels=version.labels
    )
    if not form.is_valid():
        simulation = None
    elif request.method == "POST":
        data = form.cleaned_data
        try:
            label_thresholds_save(
                label=Label.objects.get(name=data["label"]),
                review=data["review"],
                reject=form.auto_reject(),
                tuned_on=version,
                changed_by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, validation_messages(exc))
        else:
            messages.success(request, f"Saved the {data['label']} thresholds as routing rules.")
        return redirect(f"{reverse('web:simulator', args=[version.pk])}?label={data['label']}")
    else:
        data = form.cleaned_data
        simulation = simulate_thresholds(
            version=version, label=data["label"], review=data["review"], reject=data["reject"], days=data["days"]
        )
    context = {
        "version": version,
        "form": form,
        "simulation": simulation,
        "validation": asdict(simulation.validation) if simulation and simulation.validation else None,
        "values": form.cleaned_data if form.is_valid() else defaults,
        "saved": saved,
        "calibrated": calibrated,
    }
    template = "moderation/web/models/_simulation.html" if is_htmx(request) else "moderation/web/models/simulator.html"
    return render(request, template, context, status=200 if form.is_valid() else 400)


@require_http_methods(["GET", "POST"])
@admin_required
def import_upload(request):
    """A community's labelled comments, uploaded in its own layout with the command's mapping:
    the file is checked whole first, and nothing is stored unless every row reads."""
    form = ImportForm(request.POST or None, request.FILES or None)
    summary = None
    if request.method == "POST" and form.is_valid():
        try:
            summary = _import_file(form)
        except ImportFormatError as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "moderation/web/models/import.html",
        # A Counter answers any key, `items` included: the template gets the pairs.
        {"form": form, "summary": summary, "positives": sorted(summary.annotations.items()) if summary else []},
        status=400 if form.errors else 200,
    )


def _import_file(form: ImportForm):
    data = form.cleaned_data
    upload = data["file"]
    read = file_reader(
        data["file_format"] or detect_format(upload.name),
        text=data["text"],
        labels=form.label_rules(),
        id=data["id"] or None,
        language_column=data["language_column"] or None,
        language=data["language"],
        header=not data["no_header"],
    )
    known = list(Label.objects.values_list("name", flat=True))

    def rows(stream):
        return read(stream, known_labels=known, max_chars=settings.TOXISCOPE_MAX_TEXT_CHARS)

    with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        check_whole(copy.name, rows)
        with open(copy.name, encoding="utf-8", newline="") as stream:
            return comments_import(rows=rows(stream), source=data["source"])


@require_GET
@admin_required
def export(request, fmt: str):
    """The labelled data as a download: Jigsaw CSV (plus every other label) or JSONL."""
    out = io.StringIO()
    labelled_export(out, fmt)
    response = HttpResponse(out.getvalue(), content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="toxiscope-labelled-{stamp}.{fmt}"'
    return response
