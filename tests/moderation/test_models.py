from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from moderation.models import Label, ModelVersion, ReviewItem, ReviewQueue
from moderation.selectors.queues import review_queue_items
from tests.factories import ApiClientFactory, CommentFactory, LabelAnnotationFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


def test_the_seven_labels_roles_and_queues_are_seeded():
    assert list(Label.objects.values_list("name", flat=True)) == [
        "toxic",
        "severe_toxic",
        "obscene",
        "threat",
        "insult",
        "identity_hate",
        "racism",
    ]
    assert set(ReviewQueue.objects.values_list("slug", flat=True)) >= {"general", "urgent", "audit"}


def test_at_most_one_active_model_version():
    ModelVersionFactory(status=ModelVersion.Status.ACTIVE)
    ModelVersionFactory(status=ModelVersion.Status.CANDIDATE)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersionFactory(status=ModelVersion.Status.ACTIVE)


def test_external_id_is_unique_per_client_not_globally():
    first, second = ApiClientFactory(), ApiClientFactory()
    CommentFactory(client=first, external_id="abc")
    CommentFactory(client=second, external_id="abc")
    CommentFactory(client=first, external_id=None)
    CommentFactory(client=first, external_id=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommentFactory(client=first, external_id="abc")


def test_imported_rows_are_unique_per_source():
    CommentFactory(source="jigsaw", external_id="1")
    CommentFactory(source="other", external_id="1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CommentFactory(source="jigsaw", external_id="1")


def test_one_annotation_per_comment_label_and_origin():
    annotation = LabelAnnotationFactory()
    LabelAnnotationFactory(comment=annotation.comment, origin="moderator", value=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        LabelAnnotationFactory(comment=annotation.comment)


def test_empty_text_and_invalid_status_are_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        CommentFactory(text="")
    with pytest.raises(IntegrityError), transaction.atomic():
        CommentFactory(status="maybe")


def test_a_comment_waits_in_one_queue_and_a_claim_has_an_expiry():
    comment = CommentFactory()
    general = ReviewQueue.objects.get(slug="general")
    ReviewItem.objects.create(comment=comment, queue=general)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewItem.objects.create(comment=comment, queue=ReviewQueue.objects.get(slug="urgent"))
    ReviewItem.objects.create(comment=comment, queue=general, status=ReviewItem.Status.DECIDED)
    moderator = ApiClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewItem.objects.create(comment=CommentFactory(), queue=general, claimed_by=moderator)
    ReviewItem.objects.create(
        comment=CommentFactory(),
        queue=general,
        claimed_by=moderator,
        claimed_until=timezone.now() + timedelta(minutes=5),
    )


def test_queue_order_is_priority_plus_age(settings):

    settings.TOXISCOPE_PRIORITY_PER_HOUR = 0.5
    general = ReviewQueue.objects.get(slug="general")
    now = timezone.now()

    def item(priority, hours_ago, status="open"):
        created = now - timedelta(hours=hours_ago)
        made = ReviewItem.objects.create(
            comment=CommentFactory(),
            queue=general,
            priority=priority,
            status=status,
            queue_order=ReviewItem.order_key(priority, created),
        )
        ReviewItem.objects.filter(pk=made.pk).update(created_at=created)  # auto_now_add ignores a given value
        made.refresh_from_db()
        return made

    old_low, fresh_high, fresh_low = item(1.0, 4), item(2.0, 0), item(1.0, 0)
    item(9.0, 0, status="decided")
    ordered = list(review_queue_items(queue=general))
    # old_low: 1 + 4 h × 0.5 = 3 > fresh_high: 2 > fresh_low: 1; decided items are not listed.
    assert [i.pk for i in ordered] == [old_low.pk, fresh_high.pk, fresh_low.pk]


def test_every_choices_constraint_allows_exactly_the_fields_choices():
    """The database's `<field>__in` checks repeat the TextChoices (a Meta cannot refer to them):
    this keeps the two one source."""
    from django.apps import apps

    checked = 0
    for model in apps.get_app_config("moderation").get_models():
        for constraint in model._meta.constraints:
            for child in getattr(getattr(constraint, "condition", None), "children", []):
                if isinstance(child, tuple) and child[0].endswith("__in"):
                    field = model._meta.get_field(child[0].removesuffix("__in"))
                    if not field.choices:
                        continue  # a list of its own (the reserved queue slugs)
                    assert sorted(child[1]) == sorted(value for value, _ in field.choices), constraint.name
                    checked += 1
    assert checked >= 5


@pytest.mark.parametrize(
    "recorded, served",
    [
        (None, {"en"}),  # made before languages were recorded: English, as every such version was
        ({"de": 300, "en": 150, "": 500}, {"de"}),  # enough labelled comments of German only
        ({"pt-BR": 120, "pt": 90, "es": 199}, {"pt"}),  # regions count towards their language
        ({"": 1000}, set()),  # nothing known
    ],
)
def test_a_version_serves_the_languages_it_learnt_enough_of(settings, recorded, served):
    settings.TOXISCOPE_LANGUAGE_MIN_COMMENTS = 200
    metrics = {} if recorded is None else {"languages": recorded}
    assert ModelVersion(name="v", metrics=metrics).served_languages == served
