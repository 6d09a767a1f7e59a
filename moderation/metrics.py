"""Prometheus metrics at /metrics.

Counters and histograms live in each process. With several processes on a host (gunicorn
workers, Celery workers), point `PROMETHEUS_MULTIPROC_DIR` at one empty directory for all of
them (`make run` does) and /metrics adds them up. Queue sizes, training runs and the active
model are read from the database at scrape time, so every web process reports the same values.
"""

import os
import time

from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUEST_LATENCY = Histogram(
    "toxiscope_http_request_duration_seconds",
    "Time to answer a request, by URL pattern (not raw path: bounded cardinality).",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PREDICTIONS = Counter("toxiscope_predictions_total", "Comments scored, by model version.", ["model_version"])
FLAGGED = Counter("toxiscope_flagged_total", "Scored comments at or over a label's review threshold.", ["label"])
ROUTES = Counter("toxiscope_routes_total", "Routing outcomes: review, auto_approve, auto_reject.", ["action"])


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        route = match.route if match is not None else "unmatched"
        REQUEST_LATENCY.labels(request.method, route, str(response.status_code)).observe(time.perf_counter() - started)
        return response


class DatabaseCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def describe(self):
        return []  # registering must not query the database (it would, to learn the names)

    def collect(self):
        from moderation.models import ModelVersion, TrainingRun
        from moderation.selectors.queues import queue_overview  # the workspace's own counts

        size = GaugeMetricFamily("toxiscope_review_queue_open_items", "Open items per review queue.", labels=["queue"])
        age = GaugeMetricFamily(
            "toxiscope_review_queue_oldest_age_seconds", "Age of a queue's oldest open item.", labels=["queue"]
        )
        for summary in queue_overview():
            size.add_metric([summary.queue.slug], summary.open_items)
            age.add_metric([summary.queue.slug], summary.oldest_age.total_seconds() if summary.oldest_age else 0)
        yield size
        yield age
        runs = GaugeMetricFamily("toxiscope_training_runs", "Training runs by status.", labels=["status"])
        counts = dict(TrainingRun.objects.values_list("status").annotate(n=Count("id")))
        for status in TrainingRun.Status.values:
            runs.add_metric([status], counts.get(status, 0))
        yield runs
        yield from _disagreement_gauges()
        yield from _drift_gauges()

        active = GaugeMetricFamily("toxiscope_active_model_info", "1 for the active model version.", labels=["name"])
        for name in ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values_list("name", flat=True):
            active.add_metric([name], 1)
        yield active


_database_collector = DatabaseCollector()
# One process: the default registry (with its process and GC figures) plus the database gauges.
REGISTRY.register(_database_collector)


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(_database_collector)
    return registry


def _disagreement_gauges():
    """The last 7 days' disagreement (selectors/disagreement.py) per measure, label and community."""
    from datetime import timedelta

    from django.utils import timezone

    from moderation.selectors.disagreement import disagreement

    share = GaugeMetricFamily(
        "toxiscope_disagreement_ratio",
        "Share of the last 7 days' judgements where people disagreed with the model.",
        labels=["measure", "label", "source"],
    )
    judged = GaugeMetricFamily(
        "toxiscope_disagreement_judged",
        "Judgements behind toxiscope_disagreement_ratio.",
        labels=["measure", "label", "source"],
    )
    totals: dict[tuple[str, str, str], list[int]] = {}
    for row in disagreement(since=timezone.now() - timedelta(days=7)):
        cell = totals.setdefault((row.measure, row.label, row.source), [0, 0])
        cell[0] += row.disagreed
        cell[1] += row.judged
    for key, (disagreed, count) in sorted(totals.items()):
        share.add_metric(list(key), disagreed / count)
        judged.add_metric(list(key), count)
    yield share
    yield judged


def _drift_gauges():
    """The active version's latest drift snapshot (selectors/drift.py): each label's index, the
    length's, and whether it alarms."""
    from moderation.models import ModelVersion
    from moderation.selectors.drift import drift_latest

    psi = GaugeMetricFamily(
        "toxiscope_drift_psi",
        "Population stability index of the live scores (per label) or lengths, against the evaluation set.",
        labels=["measure"],
    )
    alarming = GaugeMetricFamily("toxiscope_drift_alarm", "1 while the latest drift snapshot alarms.")
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    snapshot = drift_latest(active) if active else None
    if snapshot is not None:
        for label, value in snapshot.labels.items():
            psi.add_metric([label], value)
        psi.add_metric(["length"], snapshot.length_psi)
        alarming.add_metric([], 1 if snapshot.alarms else 0)
    yield psi
    yield alarming


def metrics_view(request):
    token = settings.TOXISCOPE_METRICS_TOKEN
    if token and request.headers.get("Authorization") != f"Bearer {token}":
        return HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
