import dataclasses
from typing import Literal, get_args, get_origin

from django import forms
from django.conf import settings

from moderation.importing import FORMATS, LabelRule
from moderation.models import Decision, DecisionReason, ModelVersion
from moderation.selectors.decisions import active_labels
from moderation.selectors.queues import ItemFilters, escalation_queues
from moderation.selectors.training_data import DATA_ORIGINS, labelled_sources
from moderation.services.review import FINAL_ACTIONS
from moderation.text import LANGUAGE_CODE
from training.base_models import base_model_problem
from training.config import ConfigError, TrainConfig

MAX_AGE_HOURS = 24 * 366 * 10


class ItemFiltersForm(forms.Form):
    label = forms.ChoiceField(required=False)
    nothing_flagged = forms.BooleanField(required=False, label="nothing flagged")
    text = forms.CharField(required=False, max_length=200, label="words")
    source = forms.CharField(required=False, max_length=100)
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.all(), required=False, empty_label="any model version"
    )
    # Ten years at most: a larger age is no filter, and would overflow a date.
    min_age_hours = forms.FloatField(required=False, min_value=0, max_value=MAX_AGE_HOURS, label="Older than (hours)")
    max_age_hours = forms.FloatField(required=False, min_value=0, max_value=MAX_AGE_HOURS, label="Newer than (hours)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].choices = [("", "any label")] + [(name, name) for name in active_labels()]

    def error_text(self) -> str:
        """What is wrong, by the fields' names as the page shows them."""
        return "; ".join(f"{self[name].label}: {' '.join(errors)}" for name, errors in self.errors.items())

    def description(self) -> list[str]:
        """The filters in words, as the bulk confirmation restates them (a valid form)."""
        data = self.cleaned_data
        parts = [f"label {data['label']}"] if data["label"] else []
        parts += ["nothing flagged"] if data["nothing_flagged"] else []
        parts += [f"words \u201c{data['text'].strip()}\u201d"] if data["text"].strip() else []
        parts += [f"community {data['source'].strip()}"] if data["source"].strip() else []
        parts += [f"scored by {data['model_version'].name}"] if data["model_version"] else []
        for name, words in (("min_age_hours", "older than"), ("max_age_hours", "newer than")):
            if data[name] is not None:
                parts.append(f"{words} {data[name]:g} hours")
        return parts

    def filters(self) -> ItemFilters:
        """The filters, or no filter at all where the form is invalid (the page shows why)."""
        if not self.is_valid():
            return ItemFilters()
        data = self.cleaned_data
        return ItemFilters(
            label=data["label"],
            nothing_flagged=data["nothing_flagged"],
            text=data["text"].strip(),
            source=data["source"].strip(),
            model_version=data["model_version"].pk if data["model_version"] else None,
            min_age_hours=data["min_age_hours"],
            max_age_hours=data["max_age_hours"],
        )


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=Decision.Action.choices)
    labels = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    # The labels a person set, ticked or not (the workspace adds one as a box is changed, and
    # all of them when the model's suggestions are confirmed with c).
    touched = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)
    reason = forms.ModelChoiceField(
        queryset=DecisionReason.objects.filter(is_active=True), required=False, to_field_name="text"
    )
    escalate_to = forms.ModelChoiceField(queryset=escalation_queues(), required=False, to_field_name="slug")

    def __init__(self, *args, labels: list[str], every_label: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_names = labels
        # An item of the "teach the model" queue is there to be labelled: the page says that an
        # approve or reject saves every label, an unticked box as a "no".
        self.every_label = every_label
        self.fields["labels"].choices = self.fields["touched"].choices = [(name, name) for name in labels]

    def clean(self):
        data = super().clean()
        if data.get("action") == Decision.Action.ESCALATE and not data.get("escalate_to"):
            self.add_error("escalate_to", "Choose the queue to escalate to.")
        return data

    def label_values(self) -> dict[str, bool]:
        """The labels a person chose: a ticked box is a "yes" (no box starts ticked by the model),
        a box they changed back or confirmed unticked a "no". The rest stay unknown, so training
        masks them, except on an item to be labelled (`every_label`), where the page asks for all."""
        ticked = set(self.cleaned_data["labels"])
        chosen = ticked | set(self.cleaned_data["touched"])
        if self.every_label and self.cleaned_data["action"] in FINAL_ACTIONS:
            chosen = set(self.label_names)
        return {name: name in ticked for name in self.label_names if name in chosen}


class BulkDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[(action.value, action.label) for action in FINAL_ACTIONS])
    expected_count = forms.IntegerField(min_value=1)
    reason = forms.ModelChoiceField(
        queryset=DecisionReason.objects.filter(is_active=True), required=False, to_field_name="text"
    )


class HistorySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    moderator = forms.CharField(required=False, max_length=150)
    action = forms.ChoiceField(required=False, choices=[("", "any action")] + Decision.Action.choices)


def _config_field(spec: dataclasses.Field, *, required: bool) -> forms.Field:
    """A form field for a training setting: its type and help from TrainConfig, and no limits of
    its own (TrainConfig's checks run in the form's clean)."""
    options = {"help_text": spec.metadata["help"], "required": required}
    if get_origin(spec.type) is Literal:
        return forms.ChoiceField(choices=[(value, value) for value in get_args(spec.type)], **options)
    if spec.type is bool:
        return forms.BooleanField(**options | {"required": False})
    return {int: forms.IntegerField, float: forms.FloatField, str: forms.CharField}[spec.type](**options)


CONFIG_FIELDS = {spec.name: spec for spec in dataclasses.fields(TrainConfig)}


class RetrainForm(forms.Form):
    """A training run: base model, data, the main settings (reference defaults shown); any other
    setting as JSON. Every setting is checked by TrainConfig, as from the CLI."""

    MAIN_FIELDS = ("base_model", "max_epochs", "lr", "batch_size", "max_len", "patience", "focal_gamma", "focal_alpha")

    teacher = forms.ModelChoiceField(
        queryset=ModelVersion.objects.order_by("-created_at"),
        to_field_name="name",
        required=False,
        empty_label="no teacher: learn the labels alone",
        label="Distil from",
        help_text="a trained version (a fine-tuned minilm, say) scores every comment; this model learns its scores "
        "as well as the labels",
    )
    origins = forms.MultipleChoiceField(
        choices=[(origin.value, origin.label) for origin in DATA_ORIGINS],
        widget=forms.CheckboxSelectMultiple,
        initial=list(DATA_ORIGINS),
    )
    sources = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Communities",
        help_text="none ticked: every community; ticked: a model of those communities' comments only",
    )
    since = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="only annotations made on or after this day",
    )
    until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="only annotations made on or before this day",
    )
    advanced = forms.JSONField(
        required=False,
        initial=dict,
        help_text='any other training option as JSON, e.g. {"vocab_size": 4000, "scratch_layers": 1}',
    )

    def __init__(self, *args, preset: dict, **kwargs):
        super().__init__(*args, **kwargs)
        # A setting left blank takes the base model's preset (MiniLM's gentler learning rate…),
        # which each blank field shows.
        for name in (*self.MAIN_FIELDS, "seed"):
            self.fields[name] = _config_field(CONFIG_FIELDS[name], required=name == "base_model")
        for name in self.MAIN_FIELDS[1:]:
            self.fields[name].widget.attrs["placeholder"] = preset[name]
        self.fields["sources"].choices = [(source, source) for source in labelled_sources()]
        self.fields["base_model"].widget.attrs["list"] = "base-models"
        self.order_fields(
            ["base_model", "teacher", "origins", "sources", "since", "until", *self.MAIN_FIELDS[1:], "seed", "advanced"]
        )

    def setting_fields(self) -> list[forms.BoundField]:
        """The hyper-parameters, in the order shown."""
        return [self[name] for name in (*self.MAIN_FIELDS[1:], "seed")]

    def clean_advanced(self):
        value = self.cleaned_data["advanced"] or {}
        if not isinstance(value, dict):
            raise forms.ValidationError("a JSON object of option names and values")
        return value

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end of the period is before its start.")
        if data.get("base_model") and (problem := base_model_problem(data["base_model"])):
            self.add_error("base_model", problem)
        if not self.errors:
            try:
                TrainConfig.for_base(self.training_config())
            except ConfigError as exc:
                for name, message in exc.errors.items():
                    self.add_error(name if name in self.fields else "advanced", f"{name}: {message}")
        return data

    def training_config(self) -> dict:
        data = self.cleaned_data
        given = {name: data[name] for name in (*self.MAIN_FIELDS, "seed") if data[name] not in (None, "")}
        if data.get("teacher"):
            given["teacher"] = data["teacher"].name
        return {**data["advanced"], **given}

    def data_options(self) -> dict:
        data = self.cleaned_data
        options = {"origins": data["origins"], "sources": data["sources"]}
        if data["since"]:
            options["since"] = data["since"].isoformat()
        if data["until"]:
            options["until"] = f"{data['until'].isoformat()}T23:59:59"
        return options


class PromoteForm(forms.Form):
    override = forms.BooleanField(required=False, label="Promote anyway (override the gate)")
    reason = forms.CharField(required=False, max_length=500)


class SimulatorForm(forms.Form):
    label = forms.ChoiceField()
    review = forms.FloatField(min_value=0, max_value=1)
    reject = forms.FloatField(min_value=0, max_value=1, help_text="1 means no auto-reject")
    days = forms.IntegerField(min_value=1, max_value=90, initial=7)

    def __init__(self, *args, labels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].choices = [(label, label) for label in labels]

    def clean(self):
        data = super().clean()
        if data.get("review") is not None and data.get("reject") is not None and data["reject"] < data["review"]:
            self.add_error("reject", "The auto-reject threshold must be at or above the review threshold.")
        return data

    def auto_reject(self) -> float | None:
        """The auto-reject threshold to save: none at 1, which no calibrated score reaches."""
        reject = self.cleaned_data["reject"]
        return reject if reject < 1 else None


class ImportForm(forms.Form):
    """A community's labelled comments in its own layout: the command's mapping as fields
    (`import_comments`), named as the command names them."""

    file = forms.FileField(help_text="CSV, TSV or JSONL, UTF-8; a larger file: manage.py import_comments")
    file_format = forms.ChoiceField(
        choices=[("", "from the file name"), *((name, name.upper()) for name in FORMATS)],
        required=False,
        label="Format",
    )
    source = forms.SlugField(max_length=100, help_text="the community the rows belong to")
    text = forms.CharField(
        max_length=200, required=False, label="Text column (--text)", help_text="by header name, or 1, 2, … without one"
    )
    id = forms.CharField(
        max_length=200, required=False, label="Id column (--id)", help_text="default: a hash of the text"
    )
    labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Label rules (--label)",
        help_text=f"one per line: {LabelRule.SYNTAX}, e.g. toxic=subtask_a:OFF/NOT or toxic=score>=0.5",
    )
    language = forms.RegexField(
        regex=rf"^{LANGUAGE_CODE}\Z",
        required=False,
        label="Language (--language)",
        help_text="the whole file's: en, de, …",
    )
    language_column = forms.CharField(max_length=200, required=False, label="Language column (--language-column)")
    no_header = forms.BooleanField(required=False, label="The first line is a row (--no-header)")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20
            raise forms.ValidationError(f"Over {limit} MB: import it with manage.py import_comments.")
        return upload

    def label_rules(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["labels"].splitlines() if line.strip()]
