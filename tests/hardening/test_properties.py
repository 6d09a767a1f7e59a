"""Properties that must hold for any input, found by Hypothesis rather than picked by hand."""

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.engine.rules import AUTO_APPROVE, AUTO_REJECT, REVIEW, Rule, decide_route
from moderation.importing import ParsedRow, RowError, read_csv, read_jsonl

LABELS = ["toxic", "threat", "insult"]
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
scores_st = st.fixed_dictionaries({label: unit for label in LABELS})
rule_st = st.builds(
    Rule,
    id=st.integers(1, 50),
    order=st.integers(0, 100),
    action=st.sampled_from([REVIEW, AUTO_REJECT, AUTO_APPROVE]),
    label=st.one_of(st.none(), st.sampled_from(LABELS)),
    threshold=st.one_of(st.none(), unit),
    margin=st.one_of(st.none(), unit),
    queue=st.sampled_from(["urgent", "general"]),
    source=st.sampled_from(["", "kids", "forum"]),
)


@settings(max_examples=300, derandomize=True)
@given(
    scores=scores_st,
    thresholds=scores_st,
    rules=st.lists(rule_st, max_size=8, unique_by=lambda rule: rule.id),  # ids are primary keys
    source=st.sampled_from(["default", "kids", "forum"]),
)
def test_routing_invariants(scores, thresholds, rules, source):
    decision = decide_route(
        scores=scores, calibrated_thresholds=thresholds, rules=rules, source=source, default_queue="general"
    )
    review_at = decision.review_thresholds
    assert set(decision.flagged) == {label for label in LABELS if scores[label] >= review_at[label]}
    assert (decision.queue is not None) == (decision.action == REVIEW)
    assert decision.priority >= 0
    if decision.action == AUTO_REJECT:
        rule = next(r for r in rules if r.id == decision.rule_id and r.action == AUTO_REJECT)
        assert rule.source in ("", source) and scores[rule.label] >= rule.threshold
    if decision.action == AUTO_APPROVE:
        assert not decision.flagged  # nothing over a review threshold is ever approved unseen
    if decision.flagged and decision.action != AUTO_REJECT:
        assert decision.action == REVIEW


@settings(max_examples=200, derandomize=True)
@given(st.text(max_size=400))
def test_the_csv_reader_never_raises_on_a_row(body):
    rows = list(read_csv(io.StringIO("id,comment_text,toxic\n" + body), known_labels=LABELS, max_chars=100))
    assert all(isinstance(row, ParsedRow | RowError) for row in rows)
    assert all(row.line >= 2 for row in rows)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, derandomize=True)
@given(
    st.lists(st.one_of(json_values.map(json.dumps), st.text(max_size=40).filter(lambda t: "\n" not in t)), max_size=6)
)
def test_the_jsonl_reader_reports_every_bad_line_and_never_raises(lines):
    rows = list(read_jsonl(io.StringIO("\n".join(lines)), known_labels=LABELS, max_chars=100))
    assert all(isinstance(row, ParsedRow | RowError) for row in rows)
    for row in rows:
        if isinstance(row, ParsedRow):
            assert row.text.strip() and "\x00" not in row.text and set(row.labels) <= set(LABELS)
