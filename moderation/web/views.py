"""The moderators' workspace: thin views over the review services and selectors.

The work page shows one claimed item at a time; deciding swaps in the next one with htmx (a
plain form post and redirect without JavaScript), so a moderator works a queue from the
keyboard without page loads.
"""

from dataclasses import fields
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from moderation.messages import validation_messages
from moderation.models import Decision, DecisionReason, ReviewItem, ReviewQueue, SavedFilter
from moderation.selectors.decisions import (
    active_labels,
    audit_precision,
    decision_history,
    moderator_activity,
    undoable_decisions,
)
from moderation.selectors.queues import (
    bulk_actionable_items,
    escalation_queues,
    queue_overview,
    queue_sources,
    review_queue_items,
    with_effective_priority,
)
from moderation.selectors.workspace import work_item
from moderation.services.authors import author_action_record
from moderation.services.review import (
    FINAL_ACTIONS,
    ReviewError,
    decision_undo,
    review_item_claim_next,
    review_item_decide,
    review_item_release,
    review_items_bulk_decide,
)
from moderation.services.saved_filters import saved_filter_delete, saved_filter_save
from moderation.web.access import admin_required, is_htmx, moderator_required, parse_id
from moderation.web.forms import BulkDecisionForm, DecisionForm, HistorySearchForm, ItemFiltersForm


@require_GET
@moderator_required
def overview(request):
    return render(request, "moderation/web/overview.html", {"summaries": queue_overview()})


@require_GET
@moderator_required
def queue_page(request, slug: str):
    queue = get_object_or_404(ReviewQueue, slug=slug)
    filter_form = ItemFiltersForm(request.GET or None)
    now = timezone.now()
    items = with_effective_priority(review_queue_items(queue=queue, filters=filter_form.filters()), now=now)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "moderation/web/queue.html",
        {
            "queue": queue,
            "filter_form": filter_form,
            "page": page,
            "total": page.paginator.count,
            "filter_query": _filter_query(request),
            "sources": queue_sources(queue=queue),
            "now": now,
            "undo": undoable_decisions(moderator=request.user).exists(),
            "saved_filters": SavedFilter.objects.filter(user=request.user, queue=queue),
        },
    )


def _filter_query(request) -> str:
    keys = ItemFiltersForm.base_fields
    return urlencode({key: value for key, value in request.GET.items() if key in keys and value})


def _skipped_key(queue: ReviewQueue) -> str:
    return f"review:skipped:{queue.slug}"


def _render_work(request, queue: ReviewQueue, item: ReviewItem | None, form=None, status=200, notice=""):
    context = {
        "queue": queue,
        "every_label": queue.is_teaching,  # its items are there to be labelled
        "item": item,
        "notice": notice,
        "filter_query": request.POST.get("filters", _filter_query(request)),
        "queues": escalation_queues().exclude(pk=queue.pk),
        "reasons": DecisionReason.objects.filter(is_active=True),
        "undo": undoable_decisions(moderator=request.user).exists(),
    }
    if item is not None:
        shown = ItemFiltersForm(QueryDict(context["filter_query"]))
        work = work_item(queue=queue, item=item, filters=shown.filters())
        context |= {field.name: getattr(work, field.name) for field in fields(work)}
        context |= {"now": timezone.now(), "form": form}
    template = "moderation/web/_work.html" if is_htmx(request) else "moderation/web/work.html"
    response = render(request, template, context, status=status)
    # Never from the browser's cache: Back or Forward asks again, and gets an item still open,
    # not a comment decided since.
    add_never_cache_headers(response)
    return response


def _claim_next(request, queue: ReviewQueue, item_id: int | None = None) -> tuple[ReviewItem | None, str]:
    filters_query = request.POST.get("filters") if request.method == "POST" else None
    filter_form = ItemFiltersForm(QueryDict(filters_query) if filters_query is not None else request.GET or None)
    skipped = request.session.get(_skipped_key(queue), [])
    item = review_item_claim_next(
        queue=queue, moderator=request.user, filters=filter_form.filters(), skip=skipped, item_id=item_id
    )
    if item is None and skipped and item_id is None:
        # Everything left was skipped: start again from the top.
        request.session[_skipped_key(queue)] = []
        item = review_item_claim_next(queue=queue, moderator=request.user, filters=filter_form.filters())
        return item, "You have been through every item; starting again with the ones you skipped."
    return item, ""


@require_GET
@moderator_required
def work(request, slug: str):
    queue = get_object_or_404(ReviewQueue, slug=slug)
    requested = request.GET.get("item")
    item, notice = _claim_next(request, queue, item_id=parse_id(requested))
    if item is None and requested:
        item, notice = _claim_next(request, queue)
        notice = "That item is being reviewed by someone else or was decided; here is the next one."
    return _render_work(request, queue, item, notice=notice)


@require_POST
@moderator_required
def decide(request, slug: str, item_id: int):
    queue = get_object_or_404(ReviewQueue, slug=slug)
    item = get_object_or_404(ReviewItem.objects.select_related("comment"), pk=item_id, queue=queue)
    form = DecisionForm(request.POST, labels=active_labels(), every_label=queue.is_teaching)
    if not form.is_valid():
        return _render_work(request, queue, item, form=form, status=400)
    try:
        decision = review_item_decide(
            item_id=item.pk,
            moderator=request.user,
            action=form.cleaned_data["action"],
            labels=form.label_values(),
            reason=form.cleaned_data["reason"].text if form.cleaned_data["reason"] else "",
            escalate_to=form.cleaned_data["escalate_to"],
        )
    except ReviewError as exc:
        notice = str(exc)
    else:
        notice = f"{_past_tense(decision)} comment #{decision.comment_id}. Press z to undo."
    next_item, wrapped = _claim_next(request, queue)
    return _respond(request, queue, next_item, wrapped or notice)


def _past_tense(decision: Decision) -> str:
    if decision.action == Decision.Action.ESCALATE:
        return f"Escalated to {decision.escalated_to.name}:"
    return {Decision.Action.APPROVE: "Approved", Decision.Action.REJECT: "Rejected"}[decision.action]


def _respond(request, queue: ReviewQueue, item: ReviewItem | None, notice: str):
    if is_htmx(request):
        return _render_work(request, queue, item, notice=notice)
    if notice:
        messages.info(request, notice)
    url = reverse("web:work", args=[queue.slug])
    filters = request.POST.get("filters", "")
    return redirect(f"{url}?{filters}" if filters else url)


@require_POST
@moderator_required
def filter_save(request, slug: str):
    queue = get_object_or_404(ReviewQueue, slug=slug)
    query = request.POST.get("filters", "")
    queue_url = f"{reverse('web:queue', args=[slug])}?{query}"
    filter_form = ItemFiltersForm(QueryDict(query))
    if not filter_form.is_valid():
        messages.error(request, f"The filter is not valid, so it was not saved: {filter_form.error_text()}.")
        return redirect(queue_url)
    try:
        saved = saved_filter_save(user=request.user, queue=queue, name=request.POST.get("name", ""), query=query)
    except ValidationError as exc:
        messages.error(request, validation_messages(exc))
    else:
        messages.success(request, f"Saved the filter “{saved.name}”.")
    return redirect(queue_url)


@require_POST
@moderator_required
def filter_delete(request, slug: str, filter_id: int):
    saved = get_object_or_404(SavedFilter, pk=filter_id, queue__slug=slug, user=request.user)
    saved_filter_delete(saved_filter=saved, user=request.user)
    messages.info(request, f"Deleted the filter “{saved.name}”.")
    return redirect("web:queue", slug)


@require_POST
@moderator_required
def author_action(request, slug: str, item_id: int):
    """Flag the item's author to the client site, or suggest a ban; the item stays on screen."""
    queue = get_object_or_404(ReviewQueue, slug=slug)
    item = get_object_or_404(ReviewItem.objects.select_related("comment"), pk=item_id, queue=queue)
    try:
        recorded = author_action_record(
            comment=item.comment,
            moderator=request.user,
            action=request.POST.get("author_action", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        notice = validation_messages(exc)
    else:
        notice = f"Sent to the site: {recorded.get_action_display()} {recorded.author_id}."
    if is_htmx(request):
        return _render_work(request, queue, item, notice=notice)
    messages.info(request, notice)
    return redirect(f"{reverse('web:work', args=[queue.slug])}?item={item.pk}")


@require_POST
@moderator_required
def skip(request, slug: str, item_id: int):
    queue = get_object_or_404(ReviewQueue, slug=slug)
    review_item_release(item_id=item_id, moderator=request.user)
    skipped = request.session.get(_skipped_key(queue), [])
    request.session[_skipped_key(queue)] = [i for i in skipped if i != item_id] + [item_id]
    comment_id = ReviewItem.objects.filter(pk=item_id).values_list("comment_id", flat=True).first()
    item, notice = _claim_next(request, queue)
    return _respond(request, queue, item, notice or f"Skipped comment #{comment_id}.")


@require_POST
@moderator_required
def back(request, slug: str):
    """Return to the item this moderator skipped last, if nobody has taken or decided it; else
    stay on the current item (never one they have not seen)."""
    queue = get_object_or_404(ReviewQueue, slug=slug)
    skipped = request.session.get(_skipped_key(queue), [])
    current_id = parse_id(request.POST.get("current"))
    previous = skipped.pop() if skipped else None
    item = None
    if previous is not None:
        item, _ = _claim_next(request, queue, item_id=previous)  # gives the current item back
    if item is None:
        request.session[_skipped_key(queue)] = skipped
        # Stay on the current item (with none, the queue's next, as opening the queue gives).
        item, _ = _claim_next(request, queue, item_id=current_id)
        if previous is None:
            return _respond(request, queue, item, "You have skipped nothing in this queue: nothing to go back to.")
        return _respond(request, queue, item, "The item you skipped last was taken or decided meanwhile.")
    if current_id is not None and current_id != item.pk:
        skipped.insert(0, current_id)
    request.session[_skipped_key(queue)] = skipped
    return _respond(request, queue, item, "")


@require_POST
@moderator_required
def undo(request):
    try:
        decision = decision_undo(moderator=request.user)
    except ReviewError as exc:
        if is_htmx(request):
            queue = get_object_or_404(ReviewQueue, slug=request.POST.get("queue", ""))
            item, _ = _claim_next(request, queue)
            return _render_work(request, queue, item, notice=str(exc))
        messages.error(request, str(exc))
        return redirect("web:overview")
    if decision.bulk_id is not None:
        count = Decision.objects.filter(bulk_id=decision.bulk_id).count()
        messages.info(request, f"Undid the bulk {decision.action} of {count} comments: they are back in the queue.")
        url = reverse("web:queue", args=[decision.review_item.queue.slug])
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    item = decision.review_item
    # The item is this moderator's again; release whatever they had open meanwhile.
    current = parse_id(request.POST.get("current"))
    if current is not None and current != item.pk:
        review_item_release(item_id=current, moderator=request.user)
    notice = f"Undid the {decision.action} of comment #{decision.comment_id}."
    if is_htmx(request):
        return _render_work(request, item.queue, item, notice=notice)
    messages.info(request, notice)
    filters = request.POST.get("filters", "")  # the queue's filter goes on with the undone item
    return redirect(
        f"{reverse('web:work', args=[item.queue.slug])}?item={item.pk}" + (f"&{filters}" if filters else "")
    )


@require_POST
@moderator_required
def bulk(request, slug: str):
    """Step one renders the confirmation with the count; step two (confirm=1) acts."""
    queue = get_object_or_404(ReviewQueue, slug=slug)
    filters_query = request.POST.get("filters", "")
    filter_form = ItemFiltersForm(QueryDict(filters_query))
    queue_url = f"{reverse('web:queue', args=[slug])}?{filters_query}"
    if not filter_form.is_valid():
        # An invalid filter would widen the selection to the whole queue: refuse instead.
        messages.error(request, f"The filter is not valid, so nothing was done: {filter_form.error_text()}.")
        return redirect(queue_url)
    filters = filter_form.filters()
    form = BulkDecisionForm(request.POST)
    if request.POST.get("confirm") != "1":
        action = request.POST.get("action")
        if action not in FINAL_ACTIONS:
            messages.error(request, "Choose approve or reject.")
            return redirect(queue_url)
        count = bulk_actionable_items(queue=queue, filters=filters, moderator=request.user).count()
        selected = review_queue_items(queue=queue, filters=filters).count()
        return render(
            request,
            "moderation/web/bulk_confirm.html",
            {
                "queue": queue,
                "action": action,
                "count": count,
                "held": selected - count,
                "filters": filters_query,
                "filter_words": filter_form.description(),
                "reasons": DecisionReason.objects.filter(is_active=True),
            },
        )
    if not form.is_valid():
        messages.error(request, "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()))
        return redirect(queue_url)
    try:
        decisions = review_items_bulk_decide(
            queue=queue,
            moderator=request.user,
            filters=filters,
            action=form.cleaned_data["action"],
            expected_count=form.cleaned_data["expected_count"],
            reason=form.cleaned_data["reason"].text if form.cleaned_data["reason"] else "",
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        verb = "Approved" if form.cleaned_data["action"] == "approve" else "Rejected"
        messages.success(request, f"{verb} {len(decisions)} comments.")
    return redirect(queue_url)


@require_GET
@moderator_required
def history(request):
    form = HistorySearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    decisions = decision_history(
        search=data.get("q", ""), moderator=data.get("moderator", ""), action=data.get("action", "")
    )
    page = Paginator(decisions, 50).get_page(request.GET.get("page"))
    return render(request, "moderation/web/history.html", {"form": form, "page": page})


@require_GET
@admin_required
def activity(request):
    days = request.GET.get("days", "7")
    days = int(days) if days in ("1", "7", "30", "365") else 7
    return render(
        request,
        "moderation/web/activity.html",
        {"days": days, "rows": moderator_activity(since_days=days), "choices": [1, 7, 30, 365]},
    )


@require_GET
@admin_required
def precision(request):
    """The blind audit's verdicts on the automatic decisions: their precision per rule."""
    return render(request, "moderation/web/precision.html", {"results": audit_precision()})


def home(request) -> HttpResponse:
    return redirect("web:overview")
