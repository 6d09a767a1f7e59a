"""Why an item is in review: the scores that routed it, and the passage or words that drove
them (the model runs again here, on the work page only)."""

from dataclasses import dataclass

from moderation.engine.config import routing_config
from moderation.engine.rules import review_thresholds, rules_for_source
from moderation.engine.scoring import scorer_for, span_tagger
from moderation.models import Comment, ReviewItem
from training.artifacts import ArtifactError


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float
    threshold: float | None
    flagged: bool


def item_scores(item: ReviewItem) -> list[LabelScore]:
    """The scores that routed the item's comment, each with its review threshold as the routing
    engine derives it under the current rules (a review rule's threshold, else the model's)."""
    comment = item.comment
    version = comment.routed_by
    if version is None:
        return []
    prediction = comment.predictions.filter(model_version=version).first()
    if prediction is None:
        return []
    rules = rules_for_source(routing_config.get().rules, comment.source)
    thresholds = review_thresholds(rules, version.thresholds)
    return [
        LabelScore(label, prediction.scores[label], thresholds.get(label), label in comment.flagged_labels)
        for label in version.labels
        if label in prediction.scores
    ]


def _routing_scorer(comment: Comment):
    """The scorer of the version that routed `comment`, or None (none routed it, or its artifact
    cannot be read: the page shows the comment without highlights)."""
    if comment.routed_by is None:
        return None
    try:
        return scorer_for(comment.routed_by)
    except (ArtifactError, OSError):
        return None


@dataclass(frozen=True)
class Passage:
    """The part of a long comment that gave a label its score, with the text around it."""

    label: str
    before: str
    text: str
    after: str


def driving_passage(item: ReviewItem, scores: list[LabelScore]) -> Passage | None:
    """For a comment longer than one model window: the window that gave its highest flagged
    label (else its highest score) that score. Only such comments are scored again here (the
    transformer alone, on the work page only)."""
    comment = item.comment
    scorer = _routing_scorer(comment) if scores else None
    if scorer is None:
        return None
    # Every token covers a character, so a short text is one window; else tokenising tells.
    if len(comment.text) <= scorer.max_len or scorer.windows_needed(comment.text) == 1:
        return None
    top = max(scores, key=lambda s: (s.flagged, s.score))
    spans = scorer.driving_spans([comment.text])
    start, end = (int(v) for v in spans[0, scorer.labels.index(top.label)])
    if (start, end) == (0, len(comment.text)):
        return None
    return Passage(top.label, comment.text[:start], comment.text[start:end], comment.text[end:])


@dataclass(frozen=True)
class Segment:
    text: str
    driving: bool  # a word to highlight


def driving_words(item: ReviewItem, scores: list[LabelScore], passage: Passage | None) -> list[Segment]:
    """For a flagged comment of one window (a longer one shows its driving window instead): the
    words a person would mark (the span tagger), else the few whose leaving out lowers its top
    flagged label's score most (token occlusion), as text segments to highlight. Computed on
    the work page only (bench/spans.py measures both against annotators' marks)."""
    comment = item.comment
    flagged = [score for score in scores if score.flagged]
    scorer = _routing_scorer(comment) if passage is None and flagged else None
    if scorer is None:
        return []
    tagger = span_tagger()
    chosen = tagger.spans(comment.text) if tagger else []
    if not chosen:
        chosen = scorer.driving_words(comment.text, max(flagged, key=lambda score: score.score).label)
    segments, cursor = [], 0
    for start, end in chosen:
        segments += [Segment(comment.text[cursor:start], False), Segment(comment.text[start:end], True)]
        cursor = end
    return [*segments, Segment(comment.text[cursor:], False)] if chosen else []
