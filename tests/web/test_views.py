"""The workspace's pages through Django's test client: who may see what, CSRF, the flows."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from moderation.models import Comment, Decision, Label, LabelAnnotation, ReviewItem, ReviewQueue, RoutingRule
from moderation.selectors.explanations import item_scores
from moderation.services import comments_submit_many
from tests.factories import PASSWORD, AdminFactory, ApiClientFactory, ModeratorFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

MODERATOR_PAGES = [
    ("web:overview", []),
    ("web:queue", ["general"]),
    ("web:work", ["general"]),
    ("web:history", []),
]
ADMIN_PAGES = [("web:activity", []), ("web:precision", []), ("web:models", []), ("web:retrain", [])]
MODERATOR_ACTIONS = [
    ("web:decide", ["general", 1]),
    ("web:skip", ["general", 1]),
    ("web:back", ["general"]),
    ("web:bulk", ["general"]),
    ("web:undo", []),
    ("web:author-action", ["general", 1]),
    ("web:filter-save", ["general"]),
    ("web:filter-delete", ["general", 1]),
]
# Every web URL name and who may use it; tests/hardening/test_permissions.py checks that no
# URL pattern is missing from here or from the API's table.
WEB_ACCESS = {
    "web:home": "public",  # a redirect to the overview
    "web:login": "public",
    "web:logout": "public",
    **{name: "moderator" for name, _ in MODERATOR_PAGES + MODERATOR_ACTIONS},
    **{name: "admin" for name, _ in ADMIN_PAGES},
    # The model pages: tests/web/test_model_views.py.
    **dict.fromkeys(
        ["web:models", "web:models-chart", "web:retrain", "web:export", "web:run", "web:run-cancel", "web:version"]
        + ["web:version-plot"]
        + ["web:compare", "web:promote", "web:shadow", "web:int8", "web:cascade", "web:simulator", "web:import"],
        "admin",
    ),
}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "args"), MODERATOR_PAGES + ADMIN_PAGES)
def test_anonymous_users_are_sent_to_log_in(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302 and response.url.startswith(reverse("web:login"))


@pytest.mark.parametrize("make_user", [ApiClientFactory, UserFactory])
@pytest.mark.parametrize(("name", "args"), MODERATOR_PAGES + ADMIN_PAGES)
def test_api_clients_and_users_without_a_role_are_refused(make_user, name, args):
    assert logged_in(make_user()).get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize(("name", "args"), ADMIN_PAGES)
def test_moderators_cannot_reach_admin_pages(name, args):
    assert logged_in(ModeratorFactory()).get(reverse(name, args=args)).status_code == 403
    assert logged_in(AdminFactory()).get(reverse(name, args=args)).status_code == 200


@pytest.mark.parametrize(("name", "args"), MODERATOR_ACTIONS)
def test_actions_refuse_anonymous_users_api_clients_and_users_without_a_role(client, name, args):
    ReviewItemFactory()
    url = reverse(name, args=args)
    assert client.post(url, {"action": "approve"}).status_code == 302
    for user in (ApiClientFactory(), UserFactory()):
        assert logged_in(user).post(url, {"action": "approve"}).status_code == 403
    assert not Decision.objects.exists()


def test_decisions_cannot_be_posted_by_api_clients():
    item = ReviewItemFactory()
    response = logged_in(ApiClientFactory()).post(
        reverse("web:decide", args=["general", item.pk]), {"action": "reject"}
    )
    assert response.status_code == 403 and not Decision.objects.exists()


def test_every_form_needs_the_csrf_token():
    item = ReviewItemFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(ModeratorFactory())
    posts = [
        reverse("web:decide", args=["general", item.pk]),
        reverse("web:skip", args=["general", item.pk]),
        reverse("web:back", args=["general"]),
        reverse("web:bulk", args=["general"]),
        reverse("web:undo"),
        reverse("web:logout"),
        reverse("web:login"),
    ]
    for url in posts:
        assert client.post(url, {"action": "approve"}).status_code == 403, url
    assert not Decision.objects.exists()


def test_log_in_page_signs_a_moderator_in():
    moderator = ModeratorFactory()
    client = Client()
    response = client.post(reverse("web:login"), {"username": moderator.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("web:overview")
    assert client.get(reverse("web:overview")).status_code == 200


def test_work_page_claims_shows_and_decides_then_serves_the_next():
    first = ReviewItemFactory(queue_order=9, comment__text="first in line", comment__author_id="u1")
    ReviewItemFactory(queue_order=1, comment__text="second in line")
    moderator = ModeratorFactory()
    client = logged_in(moderator)
    page = client.get(reverse("web:work", args=["general"]))
    assert b"first in line" in page.content
    first.refresh_from_db()
    assert first.claimed_by == moderator
    response = client.post(
        reverse("web:decide", args=["general", first.pk]),
        {"action": "reject", "labels": ["toxic", "insult"], "touched": ["threat"], "reason": "Harassment"},
        **HTMX,
    )
    assert response.status_code == 200 and b"second in line" in response.content
    assert b'id="workspace"' in response.content and b"<html" not in response.content  # a partial
    decision = Decision.objects.get()
    assert decision.action == "reject" and decision.reason == "Harassment" and decision.labels_confirmed
    # Ticked: yes; touched and left unticked: no; never touched: unknown (no annotation).
    assert decision.labels == {"toxic": True, "insult": True, "threat": False}
    stored = dict(
        LabelAnnotation.objects.filter(comment=first.comment, origin="moderator").values_list("label__name", "value")
    )
    assert stored == {"toxic": True, "insult": True, "threat": False}


def test_only_labels_a_person_chose_become_moderator_labels():
    """The model's flags are suggestions: shown, never pre-ticked, never saved by approving."""
    item = ReviewItemFactory(comment__text="Shut up already, nobody cares about your opinion.")
    Comment.objects.filter(pk=item.comment_id).update(flagged_labels=["racism", "identity_hate"])
    client = logged_in(ModeratorFactory())
    page = client.get(reverse("web:work", args=["general"])).content.decode()
    box = page[page.index('value="racism"') - 120 : page.index('value="racism"') + 120]
    assert "checked" not in box and "suggested" in page and "data-confirm-suggestions" in page
    client.post(reverse("web:decide", args=["general", item.pk]), {"action": "approve"}, **HTMX)
    decision = Decision.objects.get()
    assert decision.action == "approve" and decision.labels == {} and decision.labels_confirmed
    assert not LabelAnnotation.objects.filter(comment=item.comment, origin="moderator").exists()


def test_confirming_the_suggestions_saves_them_as_a_persons_choice():
    item = ReviewItemFactory()
    Comment.objects.filter(pk=item.comment_id).update(flagged_labels=["insult"])
    client = logged_in(ModeratorFactory())
    client.get(reverse("web:work", args=["general"]))
    labels = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate", "racism"]
    # What the c key sends: the suggestions ticked, every label touched.
    client.post(
        reverse("web:decide", args=["general", item.pk]), {"action": "reject", "labels": ["insult"], "touched": labels}
    )
    stored = dict(
        LabelAnnotation.objects.filter(comment=item.comment, origin="moderator").values_list("label__name", "value")
    )
    assert stored == {name: name == "insult" for name in labels}


def test_a_bad_decision_form_is_a_400_with_the_message_and_changes_nothing():
    item = ReviewItemFactory()
    client = logged_in(ModeratorFactory())
    response = client.post(reverse("web:decide", args=["general", item.pk]), {"action": "escalate"}, **HTMX)
    assert response.status_code == 400 and b"Choose the queue to escalate to" in response.content
    response = client.post(reverse("web:decide", args=["general", item.pk]), {"action": "obliterate"}, **HTMX)
    assert response.status_code == 400
    assert not Decision.objects.exists() and ReviewItem.objects.get().status == "open"


def test_undo_brings_the_item_back_to_the_moderator():
    item = ReviewItemFactory(comment__text="regrettable click")
    client = logged_in(ModeratorFactory())
    client.post(reverse("web:decide", args=["general", item.pk]), {"action": "approve"}, **HTMX)
    response = client.post(reverse("web:undo"), {"queue": "general"}, **HTMX)
    assert b"regrettable click" in response.content and b"Undid the approve" in response.content
    assert Comment.objects.get().status == "pending"


def test_skip_and_back_move_between_items():
    first = ReviewItemFactory(queue_order=9, comment__text="alpha")
    ReviewItemFactory(queue_order=1, comment__text="beta")
    client = logged_in(ModeratorFactory())
    client.get(reverse("web:work", args=["general"]))
    skipped = client.post(reverse("web:skip", args=["general", first.pk]), {}, **HTMX)
    assert b"beta" in skipped.content
    current = ReviewItem.objects.get(comment__text="beta")
    back = client.post(reverse("web:back", args=["general"]), {"current": current.pk}, **HTMX)
    assert b"alpha" in back.content
    current.refresh_from_db()
    assert current.claimed_by is None  # released when we went back
    assert b"Last skipped" in back.content and b"Previous" not in back.content


def test_back_never_shows_an_item_the_moderator_has_not_seen():
    ReviewItemFactory(queue_order=9, comment__text="alpha")
    taken = ReviewItemFactory(queue_order=5, comment__text="beta")
    ReviewItemFactory(queue_order=1, comment__text="gamma, never seen")
    client = logged_in(ModeratorFactory())
    alpha = ReviewItem.objects.get(comment__text="alpha")
    client.get(reverse("web:work", args=["general"]))
    # Nothing skipped yet: back stays on the item on screen.
    stay = client.post(reverse("web:back", args=["general"]), {"current": alpha.pk}, **HTMX)
    assert b"alpha" in stay.content and b"nothing to go back to" in stay.content
    client.post(reverse("web:skip", args=["general", alpha.pk]), {}, **HTMX)  # now on beta
    client.post(reverse("web:skip", args=["general", taken.pk]), {}, **HTMX)  # now on gamma
    ReviewItem.objects.filter(pk=taken.pk).update(status="decided")  # another moderator decided it
    gamma = ReviewItem.objects.get(comment__text__startswith="gamma")
    back = client.post(reverse("web:back", args=["general"]), {"current": gamma.pk}, **HTMX)
    assert b"gamma" in back.content and b"taken or decided meanwhile" in back.content
    # The skip before it is still there to go back to.
    again = client.post(reverse("web:back", args=["general"]), {"current": gamma.pk}, **HTMX)
    assert b"alpha" in again.content


def test_bulk_asks_for_confirmation_with_the_count_then_acts():
    ReviewItemFactory.create_batch(3, comment__source="spamfarm")
    ReviewItemFactory(comment__source="forum")
    client = logged_in(ModeratorFactory())
    url = reverse("web:bulk", args=["general"])
    confirm = client.post(url, {"action": "reject", "filters": "source=spamfarm"})
    assert confirm.status_code == 200 and b"Reject 3 comments?" in confirm.content
    assert not Decision.objects.exists()
    stale = client.post(url, {"action": "reject", "filters": "source=spamfarm", "expected_count": 2, "confirm": "1"})
    assert stale.status_code == 302 and not Decision.objects.exists()
    client.post(url, {"action": "reject", "filters": "source=spamfarm", "expected_count": 3, "confirm": "1"})
    assert Comment.objects.filter(status="rejected").count() == 3
    assert Comment.objects.get(source="forum").status == "pending"


def test_bulk_counts_only_what_it_will_act_on_and_refuses_an_invalid_filter():
    from datetime import timedelta

    from django.utils import timezone

    other = ModeratorFactory()
    ReviewItemFactory.create_batch(3, comment__source="spamfarm")
    ReviewItemFactory(comment__source="spamfarm", claimed_by=other, claimed_until=timezone.now() + timedelta(minutes=5))
    ReviewItemFactory(comment__source="forum")
    client = logged_in(ModeratorFactory())
    url = reverse("web:bulk", args=["general"])
    confirm = client.post(url, {"action": "reject", "filters": "source=spamfarm"})
    # The item another moderator holds is not counted: confirming 3 acts at once.
    assert b"Reject 3 comments?" in confirm.content and b"except the 1 that other moderators" in confirm.content
    assert "Filter: <strong>community spamfarm</strong>" in confirm.content.decode()
    narrower = client.post(url, {"action": "reject", "filters": "source=spamfarm&min_age_hours=2&label=threat"})
    assert (
        "Filter: <strong>label threat · community spamfarm · older than 2 hours</strong>" in narrower.content.decode()
    )
    everything = client.post(url, {"action": "approve", "filters": ""})
    assert b"No filter: every open item in the queue." in everything.content
    client.post(url, {"action": "reject", "filters": "source=spamfarm", "expected_count": 3, "confirm": "1"})
    assert Comment.objects.filter(status="rejected").count() == 3
    # An invalid filter would have meant the whole queue: refused at both steps.
    for step in ({}, {"expected_count": 2, "confirm": "1"}):
        refused = client.post(url, {"action": "approve", "filters": "min_age_hours=soon", **step}, follow=True)
        assert b"The filter is not valid, so nothing was done: Older than (hours): Enter a number." in refused.content
    assert Comment.objects.filter(status="approved").count() == 0


def test_nothing_flagged_filter_selects_the_polite_comments():
    ReviewItemFactory(comment__text="thanks for the fix", comment__flagged_labels=[])
    ReviewItemFactory(comment__text="you idiot", comment__flagged_labels=["insult"])
    client = logged_in(ModeratorFactory())
    page = client.get(reverse("web:queue", args=["general"]), {"nothing_flagged": "on"})
    assert b"thanks for the fix" in page.content and b"you idiot" not in page.content
    confirm = client.post(reverse("web:bulk", args=["general"]), {"action": "approve", "filters": "nothing_flagged=on"})
    assert b"Approve 1 comment?" in confirm.content


def test_undo_keeps_the_queue_filter_and_skip_names_the_comment():
    news = [ReviewItemFactory(comment__source="news", queue_order=9 - i) for i in range(2)]
    ReviewItemFactory(comment__source="sports", queue_order=20)
    client = logged_in(ModeratorFactory())
    client.get(reverse("web:work", args=["general"]), {"source": "news"})
    client.post(reverse("web:decide", args=["general", news[0].pk]), {"action": "approve", "filters": "source=news"})
    undone = client.post(reverse("web:undo"), {"queue": "general", "filters": "source=news"})
    assert undone.url.endswith(f"?item={news[0].pk}&source=news")
    page = client.post(
        reverse("web:skip", args=["general", news[0].pk]), {"filters": "source=news"}, follow=True
    ).content.decode()
    assert f"Skipped comment #{news[0].comment_id}." in page and news[1].comment.text in page


def test_a_bulk_action_is_undone_as_one():
    items = ReviewItemFactory.create_batch(3, comment__source="spamfarm")
    moderator = ModeratorFactory()
    client = logged_in(moderator)
    bulk = reverse("web:bulk", args=["general"])
    client.post(bulk, {"action": "reject", "filters": "source=spamfarm", "expected_count": 3, "confirm": "1"})
    assert Comment.objects.filter(status="rejected").count() == 3
    queue_page = client.get(reverse("web:queue", args=["general"])).content.decode()
    assert 'data-shortcut="z"' in queue_page
    undone = client.post(reverse("web:undo"), {"queue": "general"}, follow=True)
    assert b"Undid the bulk reject of 3 comments" in undone.content
    assert Comment.objects.filter(status="pending").count() == 3
    assert set(ReviewItem.objects.filter(status="open", claimed_by=None).values_list("pk", flat=True)) == {
        item.pk for item in items
    }
    assert Decision.objects.filter(undone_at__isnull=False).count() == 3
    assert b"Nothing to undo" in client.post(reverse("web:undo"), follow=True).content


def test_queue_page_filters_and_history_search():
    ReviewItemFactory(comment__text="about the weather", comment__flagged_labels=["toxic"])
    ReviewItemFactory(comment__text="a threat to you", comment__flagged_labels=["threat"])
    client = logged_in(ModeratorFactory())
    page = client.get(reverse("web:queue", args=["general"]), {"label": "threat"})
    assert b"a threat to you" in page.content and b"about the weather" not in page.content
    bad = client.get(reverse("web:queue", args=["general"]), {"min_age_hours": "soon"})
    assert bad.status_code == 200 and b"Older than (hours): Enter a number." in bad.content
    assert b"min_age_hours:" not in bad.content
    item = ReviewItem.objects.get(comment__text="a threat to you")
    client.post(reverse("web:decide", args=["general", item.pk]), {"action": "reject", "labels": ["threat"]})
    history = client.get(reverse("web:history"), {"q": "threat"})
    assert b"a threat to you" in history.content
    assert b"about the weather" not in client.get(reverse("web:history"), {"q": "threat"}).content


def test_admins_see_activity_and_audit_precision():
    moderator = ModeratorFactory(username="maria")
    item = ReviewItemFactory()
    logged_in(moderator).post(reverse("web:decide", args=["general", item.pk]), {"action": "approve"})
    admin = logged_in(AdminFactory())
    activity = admin.get(reverse("web:activity"), {"days": "7"})
    assert b"maria" in activity.content
    assert b"Auto-reject" in admin.get(reverse("web:precision")).content


def test_score_bars_mark_the_thresholds_routing_uses(scored_item):
    RoutingRule.objects.create(
        order=5,
        label=Label.objects.get(name="insult"),
        action="review",
        threshold=0.3,
        queue=ReviewQueue.objects.get(slug="general"),
    )
    item = scored_item("a mild jab", {"insult": 0.35, "toxic": 0.2})
    bars = {bar.label: bar for bar in item_scores(item)}
    assert bars["insult"].threshold == 0.3 and bars["insult"].score == 0.35  # the review rule's threshold
    assert bars["toxic"].threshold == 0.6  # the model's calibrated one


def test_the_work_page_marks_the_part_of_a_long_comment_that_gave_its_score(active_version):
    filler = "the committee met on tuesday to discuss the parking arrangements for next year . " * 25
    insult = "you are a worthless stupid idiot and everyone hates you"
    comments_submit_many(client=ApiClientFactory(), items=[{"text": filler + insult}, {"text": insult}])
    moderator = logged_in(ModeratorFactory())
    pages = []
    for _ in range(2):
        item = ReviewItem.objects.filter(status="open", claimed_by__isnull=True).order_by("pk").first()
        pages.append(moderator.get(reverse("web:work", args=[item.queue.slug]), {"item": item.pk}).content.decode())
        moderator.post(reverse("web:decide", args=[item.queue.slug, item.pk]), {"action": "approve"})
    long_page, short_page = pages
    assert '<mark class="driving"' in long_page and "hates you</mark>" in long_page
    assert "the part that gave the" not in short_page  # one window: no passage to point at (words, maybe)


def test_a_lapsed_session_sends_an_htmx_save_to_the_log_in_page_whole_and_back_to_the_filter():
    item = ReviewItemFactory()
    shown = "http://testserver/review/general/work/?source=news&label=toxic"
    response = Client().post(
        reverse("web:decide", args=["general", item.pk]), {"action": "approve"}, HTTP_HX_CURRENT_URL=shown, **HTMX
    )
    # Not the log-in page swapped into the workspace: a whole-page trip, then back here.
    assert response.status_code == 204 and not response.content
    assert response["HX-Redirect"] == "/login/?next=/review/general/work/%3Fsource%3Dnews%26label%3Dtoxic"
    assert not Decision.objects.exists()


def test_a_stale_csrf_token_says_not_saved_and_keeps_the_item():
    item = ReviewItemFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(ModeratorFactory())
    response = client.post(reverse("web:decide", args=["general", item.pk]), {"action": "approve"}, **HTMX)
    assert response.status_code == 403 and response["X-Error-Message"].startswith("Not saved")
    assert b"<html" not in response.content and not Decision.objects.exists()


def test_error_pages_are_the_workspace_s_own_with_a_way_back():
    client = logged_in(ModeratorFactory())
    for url, status, title in (("/review/no-such-queue/", 404, b"Not found"), ("/models/", 403, b"Not allowed")):
        page = client.get(url)
        assert page.status_code == status and title in page.content
        assert b"moderation/style.css" in page.content and b"Back to the queues" in page.content
    from django.test import RequestFactory

    from moderation.api.errors import server_error

    response = server_error(RequestFactory().get("/review/"))
    assert response.status_code == 500 and b"Something went wrong" in response.content


def test_no_template_comment_leaks_into_a_page():
    client = logged_in(AdminFactory())
    ReviewItemFactory()
    for url in ("/review/", "/review/general/", "/review/general/work/", "/models/", "/login/"):
        assert b"{#" not in client.get(url).content, url


def test_why_here_does_not_cite_the_auto_approve_rule_as_if_it_approved():
    approve = RoutingRule.objects.create(order=1000, action="auto_approve", margin=0.1)
    item = ReviewItemFactory(rule=approve, reason="near threshold (within 0.10): toxic 0.55 < 0.60")
    page = logged_in(ModeratorFactory()).get(reverse("web:work", args=["general"]) + f"?item={item.pk}")
    text = page.content.decode()
    assert "too close to a threshold for the auto-approve rule 1000, whose margin is 0.10" in text
    assert "rule 1000: auto_approve" not in text


def test_the_work_page_shows_the_items_place_its_due_time_and_the_threads_link():
    first = ReviewItemFactory(
        queue_order=9,
        comment__metadata={"article": "https://news.example/story-1", "trap": "javascript:alert(1)"},
    )
    ReviewItemFactory(queue_order=1)
    page = logged_in(ModeratorFactory()).get(reverse("web:work", args=["general"])).content.decode()
    assert f'data-item="{first.pk}"' in page and "<span data-position>1 of 2</span>" in page
    assert "<dt>Due</dt><dd data-due=" in page and "in 23" in page  # the general queue's SLA is a day
    assert '<a href="https://news.example/story-1" rel="noopener noreferrer nofollow"' in page
    assert 'href="javascript:' not in page


def test_search_what_still_waits_and_the_overview_refreshes_itself():
    ReviewItemFactory(comment__text="the bridge repairs are late again")
    ReviewItemFactory(comment__text="nice photo")
    client = logged_in(ModeratorFactory())
    page = client.get(reverse("web:queue", args=["general"]), {"text": "BRIDGE"}).content.decode()
    assert "the bridge repairs" in page and "nice photo" not in page
    overview = client.get(reverse("web:overview")).content.decode()
    assert 'hx-trigger="every 10s"' in overview and 'hx-select="#queues"' in overview


def test_flag_author_and_suggest_ban_reach_the_site_as_signed_webhook_events():
    from moderation.models import AuditEvent, AuthorAction, Webhook, WebhookDelivery

    Webhook.objects.create(name="site", url="https://site.example/hooks/toxiscope")
    item = ReviewItemFactory(comment__author_id="user-7781")
    client = logged_in(ModeratorFactory())
    url = reverse("web:author-action", args=["general", item.pk])
    response = client.post(url, {"author_action": "suggest_ban", "note": "threats, third time"}, **HTMX)
    assert response.status_code == 200 and b"Sent to the site: suggest a ban user-7781" in response.content
    assert f'data-item="{item.pk}"'.encode() in response.content  # the item stays on screen
    action = AuthorAction.objects.get()
    assert (action.author_id, action.action, action.note) == ("user-7781", "suggest_ban", "threats, third time")
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "author.ban_suggested" and delivery.decision is None
    assert delivery.payload["author"] == {
        "id": "user-7781",
        "action": "suggest_ban",
        "note": "threats, third time",
        "moderator": action.moderator.username,
        "created_at": action.created_at.isoformat(),
    }
    # The comment is named as a decision's webhook names it: one shape for every event.
    comment = item.comment
    comment.refresh_from_db()
    assert delivery.payload["comment"] == {
        "id": comment.pk,
        "external_id": comment.external_id,
        "source": comment.source,
        "author_id": "user-7781",
        "status": comment.status,
    }
    assert AuditEvent.objects.filter(action="author.suggest_ban").exists()
    assert not Decision.objects.exists()
    refused = client.post(url, {"author_action": "ban_forever"}, **HTMX)
    assert b"Choose one of" in refused.content and AuthorAction.objects.count() == 1
    anonymous = ReviewItemFactory(comment__author_id="")
    no_author = client.post(reverse("web:author-action", args=["general", anonymous.pk]), {"author_action": "flag"})
    assert no_author.status_code == 302 and AuthorAction.objects.count() == 1


def test_the_work_page_shows_what_the_author_posted_before_and_how_much_was_rejected():
    from tests.factories import CommentFactory

    for status in ("rejected", "rejected", "approved"):
        CommentFactory(author_id="user-9", source="forum", status=status, text=f"earlier {status}")
    CommentFactory(author_id="user-9", source="elsewhere", status="rejected")  # another community
    ReviewItemFactory(comment__author_id="user-9", comment__source="forum")
    page = logged_in(ModeratorFactory()).get(reverse("web:work", args=["general"])).content.decode()
    assert '<span class="muted" data-author-record>3 comments, 2 rejected</span>' in page
    assert "earlier approved" in page


def test_the_work_page_is_never_served_from_the_browsers_cache():
    """Back or Forward after a decision must ask again, not show the decided comment."""
    ReviewItemFactory()
    response = logged_in(ModeratorFactory()).get(reverse("web:work", args=["general"]))
    assert "no-store" in response["Cache-Control"]


def test_a_moderator_saves_a_filter_uses_it_and_deletes_it():
    from moderation.models import SavedFilter

    ReviewItemFactory(comment__source="news", comment__text="from the news desk")
    ReviewItemFactory(comment__source="sports", comment__text="match report")
    moderator = ModeratorFactory()
    client = logged_in(moderator)
    queue_url = reverse("web:queue", args=["general"])
    page = client.get(queue_url, {"source": "news"}).content.decode()
    assert "Save this filter as" in page
    client.post(reverse("web:filter-save", args=["general"]), {"filters": "source=news", "name": "News desk"})
    saved = SavedFilter.objects.get()
    assert (saved.user, saved.name, saved.query) == (moderator, "News desk", "source=news")
    page = client.get(queue_url).content.decode()
    assert '<a href="?source=news">News desk</a>' in page
    # Someone else's list is their own, and an invalid filter is not saved.
    assert "News desk" not in logged_in(ModeratorFactory()).get(queue_url).content.decode()
    bad = client.post(
        reverse("web:filter-save", args=["general"]), {"filters": "min_age_hours=soon", "name": "x"}, follow=True
    )
    assert b"not valid" in bad.content and SavedFilter.objects.count() == 1
    other = logged_in(ModeratorFactory())
    assert other.post(reverse("web:filter-delete", args=["general", saved.pk])).status_code == 404
    client.post(reverse("web:filter-delete", args=["general", saved.pk]))
    assert not SavedFilter.objects.exists()


def test_the_blind_audit_queue_opens_for_moderators_and_precision_has_its_own_page():
    from django.db import IntegrityError, transaction

    audit = ReviewQueue.objects.get(is_audit=True)
    ReviewItemFactory(queue=audit)
    page = logged_in(ModeratorFactory()).get(reverse("web:queue", args=[audit.slug]))
    assert page.status_code == 200 and audit.name.encode() in page.content  # not the admins' precision page
    assert logged_in(AdminFactory()).get("/review/precision/").status_code == 200
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewQueue.objects.create(name="History", slug="history")


def test_the_queue_shows_the_priority_it_is_sorted_by(settings):
    settings.TOXISCOPE_PRIORITY_PER_HOUR = 0.1
    now = timezone.now()
    fresh = ReviewItemFactory(comment__text="fresh and sharp", priority=4.55, queue_order=0)
    waiting = ReviewItemFactory(comment__text="older and milder", priority=4.50, queue_order=0)
    for item, created in ((fresh, now), (waiting, now - timedelta(hours=1))):
        ReviewItem.objects.filter(pk=item.pk).update(
            created_at=created, queue_order=ReviewItem.order_key(item.priority, created)
        )
    client = Client()
    client.force_login(ModeratorFactory())
    page = client.get(reverse("web:queue", args=["general"])).content.decode()
    cell = r'<td class="num" data-label="Priority" title="score [^"]*">([\d.]+)</td>'
    shown = [float(value) for value in re.findall(cell, page)]
    # An hour of waiting lifts 4.50 to 4.60, above the fresher 4.55: the column says so, in order.
    assert page.index("older and milder") < page.index("fresh and sharp")
    assert shown == sorted(shown, reverse=True) and shown[0] == pytest.approx(4.60, abs=0.011)
    assert 'title="score 4.50 + waiting 0.10"' in page
