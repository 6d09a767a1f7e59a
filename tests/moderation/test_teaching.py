"""The "teach the model" queue: comments the model would decide alone, chosen where a person's
labels teach most (engine/teaching.py), within a daily budget (services/triage.py)."""

import json
import math
import sqlite3
import subprocess
import sys
import threading

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from moderation.engine.config import routing_config
from moderation.engine.scoring import active_model, scorer_for
from moderation.engine.teaching import (
    APART,
    NEAR,
    RANDOM,
    RANDOM_RATE,
    UNCERTAIN,
    draw,
    teaching_candidate,
)
from moderation.models import (
    Comment,
    Decision,
    LabelAnnotation,
    ModelVersion,
    Prediction,
    ReviewItem,
    ReviewQueue,
    RoutingRule,
    TeachingDay,
)
from moderation.services import comments_submit_many
from moderation.services.review import review_item_claim_next
from moderation.services.triage import analyze, comments_triage
from tests.factories import ApiClientFactory, ModeratorFactory, TrainingRunFactory, install_version
from tests.servers import migrated_sqlite_env
from tests.tiny import REPO

pytestmark = pytest.mark.django_db


def today() -> str:
    return timezone.localdate().isoformat()


def logit(probability: float) -> float:
    return math.log(probability / (1 - probability))


def not_drawn(texts):
    """The texts today's seeded draw does not pick at random (so only their scores decide)."""
    return [text for text in texts if draw(text, today()) >= RANDOM_RATE]


def test_a_candidate_is_the_nearest_label_within_reach_of_its_threshold():
    text = not_drawn([f"an ordinary remark {i}" for i in range(20)])[0]
    near = teaching_candidate(
        text=text, scores={"toxic": 0.42, "insult": 0.05}, thresholds={"toxic": 0.55, "insult": 0.5}, seed=today()
    )
    # Near in log-odds: 0.52 apart for toxic (insult, 0.45 below its threshold, is 2.9 apart).
    assert near.kind == UNCERTAIN and near.closeness == pytest.approx(1 - (logit(0.55) - logit(0.42)) / NEAR)
    assert near.reason == "the model is unsure: toxic 0.42, 0.13 below its threshold 0.55"
    for far in (0.2, 0.85):  # 1.6 and 1.5 apart
        assert teaching_candidate(text=text, scores={"toxic": far}, thresholds={"toxic": 0.55}, seed=today()) is None


def test_a_comment_whose_two_parts_disagree_is_a_candidate():
    text = not_drawn([f"an ordinary remark {i}" for i in range(20)])[0]
    far = {"toxic": 0.1}, {"toxic": 0.9}  # no score near its threshold

    def candidate(parts):
        return teaching_candidate(text=text, scores=far[0], thresholds=far[1], seed=today(), parts=parts)

    apart = candidate({"toxic": (0.05, 0.7), "insult": (0.1, 0.2)})
    assert apart.kind == UNCERTAIN and apart.closeness == pytest.approx(0.65 - APART)
    assert apart.reason == "the model's two parts disagree on toxic: the transformer 0.05, the bag of words 0.70"
    assert candidate({"toxic": (0.3, 0.6)}) is None and candidate(None) is None


def test_a_comment_its_teacher_reads_otherwise_is_a_candidate():
    text = not_drawn([f"an ordinary remark {i}" for i in range(20)])[0]

    def candidate(teacher):
        return teaching_candidate(
            text=text, scores={"toxic": 0.1, "insult": 0.2}, thresholds={"toxic": 0.9}, seed=today(), teacher=teacher
        )

    apart = candidate({"toxic": 0.8, "insult": 0.3})
    assert apart.kind == UNCERTAIN and apart.closeness == pytest.approx(0.7 - APART)
    assert apart.reason == "the model and its teacher disagree on toxic: 0.10 against 0.80"
    assert candidate({"toxic": 0.4, "insult": 0.3}) is None and candidate(None) is None


def test_a_distilled_models_teacher_reads_a_seeded_share_before_the_transaction(teaching_version, settings):
    student, texts = teaching_version
    teacher = ModelVersion.objects.get(name="probe")  # the fixture's: another version, here to score
    TrainingRunFactory(model_version=student, status="succeeded", config={"training": {"teacher": "probe"}})
    active_model.invalidate()
    assert active_model.get().teacher == teacher
    settings.TOXISCOPE_TEACH_DAILY_BUDGET, settings.TOXISCOPE_TEACH_TEACHER_SHARE = 5, 1.0
    comments = [Comment(text=text, source="default") for text in texts[:3]]
    analysis = analyze(comments)
    assert analysis.teacher_scores == scorer_for(teacher).score_dicts(texts[:3])  # every auto decision, at 1.0
    TeachingDay.objects.create(day=timezone.localdate(), uncertain=4)  # 5 at 0.2 random: the uncertain 4 taken
    assert analyze(comments).teacher_scores is None  # its disagreements could not be taken today: not read
    TeachingDay.objects.all().delete()
    settings.TOXISCOPE_TEACH_TEACHER_SHARE = 0.0
    assert analyze(comments).teacher_scores is None


def test_a_seeded_share_is_drawn_at_random_whatever_the_scores():
    texts = [f"comment {i}" for i in range(2000)]
    drawn = [text for text in texts if draw(text, "2026-12-03") < RANDOM_RATE]
    assert 0.03 < len(drawn) / len(texts) < 0.07  # about RANDOM_RATE
    assert [text for text in texts if draw(text, "2026-12-03") < RANDOM_RATE] == drawn  # seeded: the same again
    candidate = teaching_candidate(text=drawn[0], scores={"toxic": 0.0}, thresholds={"toxic": 0.9}, seed="2026-12-03")
    assert candidate.kind == RANDOM and "at random" in candidate.reason


@pytest.fixture
def teaching_version(trained_artifact, artifacts_dir):
    """The tiny model, with a toxic threshold that puts these texts' scores just out of the
    auto-approve margin's reach (0.01 here): it approves them alone, but is unsure of them."""
    candidates = not_drawn([f"thanks for the edit number {i}" for i in range(80)])
    probe = install_version(trained_artifact, artifacts_dir, "probe", status="retired", cascade=False)
    toxic = scorer_for(probe).score(candidates)[:, list(trained_artifact.thresholds).index("toxic")].tolist()
    typical = float(np.median(toxic))
    chosen = [
        (text, score) for text, score in zip(candidates, toxic, strict=True) if abs(score - typical) < 0.3 * typical
    ]
    texts, chosen_scores = [text for text, _ in chosen[:12]], [score for _, score in chosen[:12]]
    assert len(texts) == 12, toxic
    RoutingRule.objects.filter(action="auto_approve").update(margin=0.01)
    routing_config.invalidate()
    threshold = max(chosen_scores) + 0.011
    assert all(abs(logit(threshold) - logit(score)) < NEAR for score in chosen_scores), chosen_scores
    thresholds = dict.fromkeys(trained_artifact.thresholds, 1.0) | {"toxic": threshold}
    # The transformer reads them all (no cascade): its part and the bag of words' differ.
    version = install_version(trained_artifact, artifacts_dir, "teaching", thresholds=thresholds, cascade=False)
    return version, texts


def test_uncertain_comments_go_to_people_within_the_budget_and_say_why(teaching_version, settings):
    settings.TOXISCOPE_TEACH_DAILY_BUDGET, settings.TOXISCOPE_TEACH_RANDOM_SHARE = 5, 0.2  # 4 uncertain, 1 random
    _, texts = teaching_version
    results = comments_submit_many(client=ApiClientFactory(), items=[{"text": text} for text in texts])
    taught = ReviewItem.objects.filter(queue__slug="uncertain")
    assert taught.count() == 4 and TeachingDay.objects.get().uncertain == 4
    assert all(item.reason.startswith("the model is unsure: toxic") for item in taught)
    assert all(item.comment.status == "pending" and item.comment.route_action == "review" for item in taught)
    others = [result.comment for result in results if not result.comment.review_items.exists()]
    assert len(others) == len(texts) - 4 and all(comment.route_action == "auto_approve" for comment in others)
    # The most uncertain first: the four taught are those nearest the threshold (above them all).
    toxic = dict(Prediction.objects.values_list("comment_id", "scores__toxic"))
    assert min(toxic[item.comment_id] for item in taught) >= max(toxic[comment.pk] for comment in others)


def test_settings_off_or_spent_teach_nothing(teaching_version, settings):
    _, texts = teaching_version
    settings.TOXISCOPE_TEACH_DAILY_BUDGET = 0
    comments_submit_many(client=ApiClientFactory(), items=[{"text": text} for text in texts[:3]])
    assert not ReviewItem.objects.filter(queue__slug="uncertain").exists() and not TeachingDay.objects.exists()
    settings.TOXISCOPE_TEACH_DAILY_BUDGET, settings.TOXISCOPE_TEACH_RANDOM_SHARE = 2, 0.0
    comments_submit_many(client=ApiClientFactory(), items=[{"text": text} for text in texts[3:]])
    comments_submit_many(client=ApiClientFactory(), items=[{"text": text} for text in texts[3:]])
    assert ReviewItem.objects.filter(queue__slug="uncertain").count() == 2


def test_an_item_chosen_to_be_labelled_is_never_decided_by_a_model(teaching_version, settings):
    settings.TOXISCOPE_TEACH_DAILY_BUDGET, settings.TOXISCOPE_TEACH_RANDOM_SHARE = 1, 0.0
    _, texts = teaching_version
    comments_submit_many(client=ApiClientFactory(), items=[{"text": texts[0]}])
    item = ReviewItem.objects.get(queue__slug="uncertain")
    analysis = analyze([item.comment])
    assert analysis.parts is not None and set(analysis.parts[0]) == set(analysis.scores[0])  # the blend's parts
    comments_triage(comments=[item.comment], analysis=analysis)  # a re-score says approve
    item.refresh_from_db()
    assert item.status == "open" and item.comment.status == "pending"


def test_the_work_page_asks_for_every_label_and_saves_them_all(teaching_version, settings):
    settings.TOXISCOPE_TEACH_DAILY_BUDGET, settings.TOXISCOPE_TEACH_RANDOM_SHARE = 1, 0.0
    _, texts = teaching_version
    comments_submit_many(client=ApiClientFactory(), items=[{"text": texts[0]}])
    moderator = ModeratorFactory()
    client = Client()
    client.force_login(moderator)
    page = client.get("/review/uncertain/work/").content.decode()
    assert 'id="every-label"' in page and "the model is unsure: toxic" in page
    item = review_item_claim_next(queue=ReviewQueue.objects.get(slug="uncertain"), moderator=moderator)
    response = client.post(f"/review/uncertain/items/{item.pk}/decide/", {"action": "approve", "labels": ["insult"]})
    assert response.status_code in (200, 302), response.content[:500]
    decision = Decision.objects.get(comment=item.comment)
    labels = set(scorer_for(teaching_version[0]).labels)
    assert decision.labels == {name: name == "insult" for name in labels}  # every label: a person's answer
    saved = dict(LabelAnnotation.objects.filter(comment=item.comment).values_list("label__name", "value"))
    assert saved == decision.labels


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_submits_never_exceed_the_budget_on_postgresql(teaching_version, settings):
    if connection.vendor != "postgresql":
        pytest.skip("threads race on PostgreSQL; SQLite's racing processes: the test below")
    settings.TOXISCOPE_TEACH_DAILY_BUDGET, settings.TOXISCOPE_TEACH_RANDOM_SHARE = 3, 0.0
    _, texts = teaching_version
    barrier, errors = threading.Barrier(6), []

    def submit(index: int):
        try:
            barrier.wait()
            comments_submit_many(client=ApiClientFactory(), items=[{"text": text} for text in texts[index::6]])
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert ReviewItem.objects.filter(queue__slug="uncertain").count() == 3 == TeachingDay.objects.get().uncertain


RACER = """
import sys, django
django.setup()
from moderation.services import comments_submit_many
from django.contrib.auth import get_user_model
client = get_user_model().objects.get(username="racer")
texts = sys.argv[1:]
for text in texts:
    comments_submit_many(client=client, items=[{"text": text}])
"""

SETUP = """
import json, sys, django
django.setup()
from django.contrib.auth import get_user_model
from pathlib import Path
from moderation.models import RoutingRule
from moderation.services.artifacts import artifact_upload
from moderation.services.model_versions import model_version_create
spec = json.loads(sys.argv[1])
get_user_model().objects.create(username="racer")
stored = artifact_upload(path=Path(spec.pop("path")))
model_version_create(artifact=stored, status="active", base_model="scratch", **spec)
RoutingRule.objects.filter(action="auto_approve").update(margin=0.01)  # as teaching_version's
"""


@pytest.mark.slow
def test_racing_submits_never_exceed_the_budget_on_sqlite(teaching_version, tmp_path):
    """Four processes submit at once to one SQLite file, as gunicorn's workers would."""
    version, texts = teaching_version
    env = migrated_sqlite_env(tmp_path / "var", TOXISCOPE_TEACH_DAILY_BUDGET="3", TOXISCOPE_TEACH_RANDOM_SHARE="0")
    env["TOXISCOPE_ARTIFACTS_DIR"] = str(tmp_path / "artifacts")
    env["DJANGO_SETTINGS_MODULE"] = "toxiscope.settings"
    spec = {
        "name": "teaching",
        "path": str(tmp_path / "artifacts" / version.name),  # the test's cache: artifacts_dir
        "labels": version.labels,
        "thresholds": version.thresholds,
        "metrics": version.metrics,
        "cascade": version.cascade,
    }
    subprocess.run([sys.executable, "-c", SETUP, json.dumps(spec)], cwd=REPO, env=env, check=True, capture_output=True)
    racers = [
        subprocess.Popen([sys.executable, "-c", RACER, *texts[index::4]], cwd=REPO, env=env, stderr=subprocess.PIPE)
        for index in range(4)
    ]
    for racer in racers:
        assert racer.wait(timeout=300) == 0, racer.stderr.read()[-3000:]
    with sqlite3.connect(tmp_path / "var" / "toxiscope.sqlite3") as db:
        taught = db.execute(
            "SELECT count(*) FROM moderation_reviewitem i JOIN moderation_reviewqueue q ON q.id = i.queue_id "
            "WHERE q.slug = 'uncertain'"
        ).fetchone()[0]
        counted = db.execute("SELECT uncertain FROM moderation_teachingday").fetchone()[0]
    assert taught == counted == 3
