from django import forms

from moderation.models import Decision, DecisionReason, ModelVersion, ReviewQueue
from moderation.selectors.review import ItemFilters, active_labels


class ItemFiltersForm(forms.Form):
    label = forms.ChoiceField(required=False)
    source = forms.CharField(required=False, max_length=100)
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.all(), required=False, empty_label="any model version"
    )
    min_age_hours = forms.FloatField(required=False, min_value=0)
    max_age_hours = forms.FloatField(required=False, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].choices = [("", "any label")] + [(name, name) for name in active_labels()]

    def filters(self) -> ItemFilters:
        """The filters, or no filter at all where the form is invalid (the page shows why)."""
        if not self.is_valid():
            return ItemFilters()
        data = self.cleaned_data
        return ItemFilters(
            label=data["label"],
            source=data["source"].strip(),
            model_version=data["model_version"].pk if data["model_version"] else None,
            min_age_hours=data["min_age_hours"],
            max_age_hours=data["max_age_hours"],
        )


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=Decision.Action.choices)
    labels = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    reason = forms.ModelChoiceField(
        queryset=DecisionReason.objects.filter(is_active=True), required=False, to_field_name="text"
    )
    escalate_to = forms.ModelChoiceField(
        queryset=ReviewQueue.objects.filter(is_audit=False), required=False, to_field_name="slug"
    )

    def __init__(self, *args, labels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.label_names = labels
        self.fields["labels"].choices = [(name, name) for name in labels]

    def clean(self):
        data = super().clean()
        if data.get("action") == Decision.Action.ESCALATE and not data.get("escalate_to"):
            self.add_error("escalate_to", "Choose the queue to escalate to.")
        return data

    def label_values(self) -> dict[str, bool]:
        """Every label of the form, ticked or not: an unticked box is a moderator's "no"."""
        ticked = set(self.cleaned_data["labels"])
        return {name: name in ticked for name in self.label_names}


class BulkDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    expected_count = forms.IntegerField(min_value=1)
    reason = forms.ModelChoiceField(
        queryset=DecisionReason.objects.filter(is_active=True), required=False, to_field_name="text"
    )


class HistorySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    moderator = forms.CharField(required=False, max_length=150)
    action = forms.ChoiceField(required=False, choices=[("", "any action")] + Decision.Action.choices)
