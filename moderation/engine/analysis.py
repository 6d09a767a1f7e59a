"""Score texts with the active model and decide each one's route: the one path shared by the
API's analyze, the Perspective endpoint, triage of submitted comments and version comparisons.
Reads cached state only; writes nothing."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings

from moderation.engine.config import RoutingConfig, routing_config
from moderation.engine.languages import detect_language
from moderation.engine.rules import REVIEW, RouteDecision, decide_route
from moderation.engine.scoring import LoadedVersion, Parts, active_model
from moderation.models import ReviewQueue
from moderation.text import base_language

NO_MODEL_REASON = "no active model: every comment is reviewed by a person"


@dataclass(frozen=True)
class Analysis:
    """Scores and routes for a batch of texts, in the order given."""

    version: LoadedVersion | None
    config: RoutingConfig
    scores: Sequence[dict[str, float] | None]
    decisions: list[RouteDecision]
    languages: Sequence[str]  # each text's language: as given, else detected ("" unknown)
    # Each text's blend parts per label (engine/teaching.py), where the model has two parts.
    parts: Sequence[Mapping[str, Parts]] | None = None
    # The teacher's scores of the texts it read (None where it did not): services/triage.py.
    teacher_scores: Sequence[Mapping[str, float] | None] | None = None

    def subset(self, indexes: Sequence[int]) -> "Analysis":
        """The same analysis for the rows at `indexes`, in that order."""
        return Analysis(
            self.version,
            self.config,
            [self.scores[i] for i in indexes],
            [self.decisions[i] for i in indexes],
            [self.languages[i] for i in indexes],
            None if self.parts is None else [self.parts[i] for i in indexes],
            None if self.teacher_scores is None else [self.teacher_scores[i] for i in indexes],
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
    unserved: Sequence[str] | None = None,
) -> list[RouteDecision]:
    """Each comment's route from its scores and a version's thresholds and unreliable labels,
    under the current routing rules (the cached configuration unless one is given). `unserved`:
    each comment's language where the version does not serve it, else ""."""
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
            unserved_language=language,
        )
        for comment_scores, source, language in zip(
            scores, sources, unserved if unserved is not None else [""] * len(scores), strict=True
        )
    ]


def comment_languages(texts: Sequence[str], given: Sequence[str] | None = None) -> list[str]:
    """Each text's language: the one given, else a confident detection, else "" (unknown)."""
    given = given if given is not None else [""] * len(texts)
    return [language or detect_language(text) for text, language in zip(texts, given, strict=True)]


def unserved_languages(languages: Sequence[str], version: LoadedVersion) -> list[str]:
    """Each language the version was not trained on (if routing sends those to people), else ""."""
    if not settings.TOXISCOPE_REVIEW_UNSERVED_LANGUAGES:
        return [""] * len(languages)
    served = version.version.served_languages
    return [language if language and base_language(language) not in served else "" for language in languages]


def comments_analyze(
    *, texts: Sequence[str], sources: Sequence[str], languages: Sequence[str] | None = None
) -> Analysis:
    """Score `texts` in one model call (if a model is active) and decide each one's route;
    `languages`, where the client gave them ("" where not: detected here). Without an active
    model, every comment goes to a person in the default queue."""
    version = active_model.get()
    config = routing_config.get()
    found = comment_languages(texts, languages)
    if version is None:
        return Analysis(
            None,
            config,
            [None] * len(texts),
            [RouteDecision(REVIEW, config.default_queue.slug, NO_MODEL_REASON) for _ in texts],
            found,
        )
    scores, parts = version.score_with_parts(list(texts))
    decisions = decide_routes(
        scores=scores,
        thresholds=version.thresholds,
        sources=sources,
        unreliable=version.version.unreliable_labels,
        config=config,
        unserved=unserved_languages(found, version),
    )
    return Analysis(version, config, scores, decisions, found, parts)
