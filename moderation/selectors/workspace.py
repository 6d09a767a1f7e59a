"""The work page's item: everything a moderator sees beside one claimed comment."""

from dataclasses import dataclass

from moderation.models import Decision, ReviewItem, ReviewQueue
from moderation.selectors import decisions, explanations, queues


@dataclass(frozen=True)
class LabelBox:
    number: int  # its shortcut key
    name: str
    ticked: bool
    chosen: bool  # set by a person: saved again with the next decision
    suggested: bool  # the model flags it


@dataclass(frozen=True)
class WorkItem:
    blind: bool  # the audit queue: no scores, no suggestions
    scores: list[explanations.LabelScore]
    passage: explanations.Passage | None
    driving_words: list[explanations.Segment]
    labels: list[LabelBox]
    suggestions: bool
    history: list[Decision]
    author: decisions.AuthorRecord | None
    place: queues.ItemPlace


def work_item(*, queue: ReviewQueue, item: ReviewItem, filters: queues.ItemFilters) -> WorkItem:
    blind = queue.is_audit
    # Boxes start as a person left them (an earlier decision, undone); the model's flags are
    # shown as suggestions beside them and saved only when confirmed.
    chosen = decisions.moderator_labels(item.comment)
    suggested = set() if blind else set(item.comment.flagged_labels)
    scores = [] if blind else explanations.item_scores(item)
    passage = explanations.driving_passage(item, scores)
    return WorkItem(
        blind=blind,
        scores=scores,
        passage=passage,
        driving_words=explanations.driving_words(item, scores, passage),
        labels=[
            LabelBox(index + 1, name, chosen.get(name, False), name in chosen, name in suggested)
            for index, name in enumerate(decisions.active_labels())
        ],
        suggestions=bool(suggested),
        history=decisions.author_history(item.comment),
        author=decisions.author_record(item.comment),
        place=queues.item_place(item, filters),
    )
