"""Score texts with the active model and decide each one's route: the one path shared by the
API's analyze, the Perspective endpoint, triage of submitted comments and version comparisons.
Reads cached state only; writes nothing."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from moderation.engine.config import RoutingConfig, routing_config
from moderation.engine.rules import REVIEW, RouteDecision, decide_route
from moderation.engine.scoring import LoadedVersion, active_model
from moderation.models import ReviewQueue

NO_MODEL_REASON = "no active model: every comment is reviewed by a person"


@dataclass(frozen=True)
class Analysis:
    """Scores and routes for a batch of texts, in the order given."""

    version: LoadedVersion | None
    config: RoutingConfig
    scores: Sequence[dict[str, float] | None]
    decisions: list[RouteDecision]

    def subset(self, indexes: Sequence[int]) -> "Analysis":
        """The same analysis for the rows at `indexes`, in that order."""
        return Analysis(
            self.version, self.config, [self.scores[i] for i in indexes], [self.decisions[i] for i in indexes]
        )

    def queue(self, index: int) -> ReviewQueue | None:
        """The queue a comment goes to for review (None when the model decides it)."""
        decision = self.decisions[index]
        if decision.action != REVIEW:
            return None
        if decision.queue is None:
            return self.config.default_queue
        return self.config.queues.get(decision.queue, self.config.default_queue)


def decide_routes(
    *,
    scores: Sequence[Mapping[str, float]],
    thresholds: Mapping[str, float],
    sources: Sequence[str],
    unreliable: Sequence[str] = (),
    config: RoutingConfig | None = None,
) -> list[RouteDecision]:
    """Each comment's route from its scores and a version's thresholds and unreliable labels,
    under the current routing rules (the cached configuration unless one is given)."""
    config = config or routing_config.get()
    return [
        decide_route(
            scores=comment_scores,
            calibrated_thresholds=thresholds,
            rules=config.rules,
            source=source,
            default_queue=config.default_queue.slug,
            severity=config.severity,
            unreliable=unreliable,
        )
        for comment_scores, source in zip(scores, sources, strict=True)
    ]


def comments_analyze(*, texts: Sequence[str], sources: Sequence[str]) -> Analysis:
    """Score `texts` in one model call (if a model is active) and decide each one's route.
    Without an active model, every comment goes to a person in the default queue."""
    version = active_model.get()
    config = routing_config.get()
    if version is None:
        return Analysis(
            None,
            config,
            [None] * len(texts),
            [RouteDecision(REVIEW, config.default_queue.slug, NO_MODEL_REASON) for _ in texts],
        )
    scores = version.score(list(texts))
    decisions = decide_routes(
        scores=scores,
        thresholds=version.thresholds,
        sources=sources,
        unreliable=version.version.unreliable_labels,
        config=config,
    )
    return Analysis(version, config, scores, decisions)
