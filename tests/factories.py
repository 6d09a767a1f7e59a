import shutil
from functools import cache

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.models import Group

from moderation import models
from moderation.engine.scoring import scorer_for
from moderation.roles import ADMIN, API_CLIENT, MODERATOR
from moderation.services.artifacts import artifact_upload
from moderation.services.model_versions import model_version_create

PASSWORD = "correct horse battery staple"  # every factory user's


class FewIterationsHasher(PBKDF2PasswordHasher):
    """Production's algorithm (pbkdf2_sha256) at 1,000 iterations rather than 1,000,000: one
    check costs 0.5 s there, and the suite logs in hundreds of times. The test process hashes
    with it (conftest); its hashes are ordinary pbkdf2_sha256 ones, which the servers the tests
    start check, and upgrade on a log-in, as production does."""

    iterations = 1_000


@cache
def _password_hash() -> str:
    """PASSWORD's hash, made once: the suite creates hundreds of users."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.LazyFunction(_password_hash)


class ApiClientFactory(UserFactory):
    username = factory.Sequence(lambda n: f"client{n}")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        user.groups.add(Group.objects.get(name=API_CLIENT))


class ModeratorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"moderator{n}")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        user.groups.add(Group.objects.get(name=MODERATOR))


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        user.groups.add(Group.objects.get(name=ADMIN))


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Comment

    text = factory.Sequence(lambda n: f"comment number {n}")
    source = "default"


class LabelAnnotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.LabelAnnotation

    comment = factory.SubFactory(CommentFactory)
    label = factory.LazyFunction(lambda: models.Label.objects.get(name="toxic"))
    value = True
    origin = models.LabelAnnotation.Origin.IMPORTED


class ReviewItemFactory(factory.django.DjangoModelFactory):
    """An open item in the `general` queue (queues come from a data migration)."""

    class Meta:
        model = models.ReviewItem

    comment = factory.SubFactory(CommentFactory, status="pending", route_action="review")
    queue = factory.LazyFunction(lambda: models.ReviewQueue.objects.get(slug="general"))
    reason = "toxic 0.90 ≥ 0.50"
    priority = factory.Sequence(lambda n: float(n))
    queue_order = factory.LazyAttribute(lambda item: item.priority)


class WebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Webhook

    name = factory.Sequence(lambda n: f"hook{n}")
    url = "http://127.0.0.1:9/unreachable"
    secret = "s3cret"


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ModelVersion

    name = factory.Sequence(lambda n: f"version-{n}")
    base_model = "scratch"
    labels = factory.LazyFunction(lambda: ["toxic"])
    thresholds = factory.LazyFunction(lambda: {"toxic": 0.5})
    data_hash = "0" * 64


def install_version(trained_artifact, artifacts_dir, name: str, status: str = "active", thresholds=None, cascade=True):
    """The session's tiny model, copied into the host's artifact cache, stored, and recorded as a
    version with its files."""
    path = artifacts_dir / name
    shutil.copytree(trained_artifact.artifact_path, path)
    return model_version_create(
        artifact=artifact_upload(path=path),
        name=name,
        base_model="scratch",
        labels=list(trained_artifact.thresholds),
        thresholds=thresholds or trained_artifact.thresholds,
        metrics=trained_artifact.metrics,
        train_size=trained_artifact.train_size,
        data_hash=trained_artifact.data_hash,
        status=status,
        cascade=cascade,
    )


class TrainingRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TrainingRun

    status = "queued"


# Another community's comments: German, about other things than Wikipedia's talk pages.
GERMAN = [
    "Die Bahn hat heute schon wieder Verspätung, das ist wirklich ärgerlich für alle Pendler hier.",
    "Ich finde die neue Regelung der Regierung zur Rente ziemlich ungerecht gegenüber den Jüngeren.",
    "Hat jemand eine Ahnung, wann das Spiel am Samstag im Fernsehen übertragen wird?",
    "Die Preise im Supermarkt sind in diesem Jahr wieder deutlich gestiegen, oder täusche ich mich?",
]


def score_stream(version, comments):
    """The comments scored by `version`, as live traffic is (the drift tests)."""
    scores = scorer_for(version).score_dicts([comment.text for comment in comments])
    models.Prediction.objects.bulk_create(
        models.Prediction(comment=comment, model_version=version, scores=row)
        for comment, row in zip(comments, scores, strict=True)
    )


def german_stream(version, count: int):
    """`count` comments of another community, scored by `version`."""
    comments = models.Comment.objects.bulk_create(
        models.Comment(text=f"{GERMAN[i % len(GERMAN)]} (Nummer {i})", source="other-site") for i in range(count)
    )
    score_stream(version, comments)
