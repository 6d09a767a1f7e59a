"""End to end in real Chromium: a moderator works a queue from the keyboard; two moderators
never get the same item."""

import re

import pytest
from playwright.sync_api import Page, expect

from moderation.models import Comment, Decision, DecisionReason, LabelAnnotation, ReviewItem
from tests.factories import PASSWORD, AdminFactory, ModeratorFactory, ReviewItemFactory
from tests.web.conftest import LABELS

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(page: Page, base_url: str, user) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/review/$"))


def current_item(page: Page) -> int:
    return int(page.locator("[data-item]").get_attribute("data-item"))


def test_a_moderator_works_a_queue_with_the_keyboard(browser, live_server, scored_item, screenshots):
    threat = scored_item(
        "I know where you live and you will regret this",
        {"threat": 0.97, "toxic": 0.93, "insult": 0.30},
        author_id="user-7781",
        source="city-forum",
        metadata={"thread": "Road closures on Elm St", "reply_to": "user-1204"},
    )
    insult = scored_item("you are a complete idiot and everyone knows it", {"toxic": 0.88, "insult": 0.81})
    rude = scored_item("this take is garbage, do some research", {"toxic": 0.64, "insult": 0.22})
    spam = [scored_item(f"BUY CHEAP PILLS {i} www.example.test", {"toxic": 0.2}, source="spamfarm") for i in range(3)]
    moderator = ModeratorFactory(username="maria")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    log_in(page, live_server.url, moderator)
    page.screenshot(path=screenshots / "queues.png", full_page=True)

    page.goto(f"{live_server.url}/review/general/")
    page.screenshot(path=screenshots / "queue.png", full_page=True)
    page.keyboard.press("j")  # the cursor on the first (most urgent) row
    page.keyboard.press("Enter")
    expect(page.locator(".comment-text")).to_contain_text("I know where you live")
    assert current_item(page) == threat.pk
    page.screenshot(path=screenshots / "review-item.png", full_page=True)
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.screenshot(path=screenshots / "shortcuts.png")
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()

    # The model's flags are suggestions, not ticks: nothing would be saved as a label yet.
    expect(page.locator(".labels label.suggested")).to_have_count(2)  # threat and toxic
    expect(page.locator(".labels input[data-label]:checked")).to_have_count(0)
    page.keyboard.press("c")  # confirm them: threat and toxic yes, every other label no
    expect(page.locator(".labels label.chosen")).to_have_count(7)
    page.keyboard.press("5")  # insult was not flagged: 0.30 < 0.45, so this ticks it...
    page.keyboard.press("5")  # ...and this unticks it again
    page.keyboard.press("2")  # severe_toxic: yes
    page.keyboard.press("r")
    expect(page.locator(".comment-text")).to_contain_text("complete idiot")
    decision = Decision.objects.get(comment=threat.comment)
    assert decision.action == "reject" and decision.moderator == moderator
    labels = dict(
        LabelAnnotation.objects.filter(comment=threat.comment, origin="moderator").values_list("label__name", "value")
    )
    assert labels == {
        "threat": True,
        "toxic": True,
        "severe_toxic": True,
        **dict.fromkeys(["insult", "obscene", "identity_hate", "racism"], False),
    }

    page.keyboard.press("a")  # approve the insult by mistake...
    expect(page.locator(".comment-text")).to_contain_text("this take is garbage")
    assert Comment.objects.get(pk=insult.comment_id).status == "approved"
    page.keyboard.press("z")  # ...and take it back
    expect(page.locator(".notice")).to_contain_text("Undid the approve")
    expect(page.locator(".comment-text")).to_contain_text("complete idiot")
    assert Comment.objects.get(pk=insult.comment_id).status == "pending"
    assert ReviewItem.objects.get(pk=rude.pk).claimed_by is None  # the item on screen went back
    page.keyboard.press("w")  # a reason, by the keys alone: arrows, Enter, then the decision
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.press("r")
    expect(page.locator(".comment-text")).to_contain_text("this take is garbage")
    assert Comment.objects.get(pk=insult.comment_id).status == "rejected"
    reason = DecisionReason.objects.filter(is_active=True).first()  # the first in the list
    assert Decision.objects.filter(comment_id=insult.comment_id).latest("id").reason == reason.text

    page.keyboard.press("e")  # escalate: choose the queue with the arrows, Enter sends it
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("Escalated to")
    assert ReviewItem.objects.get(comment=rude.comment, status="open").queue.slug != "general"

    # Bulk: the spam, filtered by community, rejected in one go after confirming the count.
    page.goto(f"{live_server.url}/review/general/?source=spamfarm")
    page.get_by_role("button", name="Reject all 3…").click()
    expect(page.get_by_role("heading")).to_have_text("Reject 3 comments?")
    page.screenshot(path=screenshots / "bulk-confirm.png")
    page.get_by_role("button", name="Reject 3").click()
    expect(page.locator(".flash")).to_contain_text("Rejected 3 comments.")
    assert all(Comment.objects.get(pk=item.comment_id).status == "rejected" for item in spam)
    page.keyboard.press("z")  # the bulk action is undone as one
    expect(page.locator(".flash")).to_contain_text("Undid the bulk reject of 3 comments")
    assert all(Comment.objects.get(pk=item.comment_id).status == "pending" for item in spam)
    page.get_by_role("button", name="Reject all 3…").click()
    page.get_by_role("button", name="Reject 3").click()
    expect(page.locator(".flash")).to_contain_text("Rejected 3 comments.")

    page.goto(f"{live_server.url}/review/history/")
    expect(page.locator("table")).to_contain_text("I know where you live")
    page.screenshot(path=screenshots / "history.png", full_page=True)


def test_two_moderators_never_see_the_same_item(browser, live_server):
    items = {ReviewItemFactory(comment__text=f"comment {i}", queue_order=i).pk for i in range(6)}
    pages = []
    for moderator in (ModeratorFactory(), ModeratorFactory()):
        context = browser.new_context()
        page = context.new_page()
        log_in(page, live_server.url, moderator)
        page.goto(f"{live_server.url}/review/general/work/")
        pages.append(page)
    seen: list[set[int]] = [set(), set()]
    for _ in range(3):
        on_screen = [current_item(page) for page in pages]
        assert on_screen[0] != on_screen[1]
        for index, page in enumerate(pages):
            seen[index].add(on_screen[index])
            page.keyboard.press("a")
            expect(page.locator(f'[data-item="{on_screen[index]}"]')).to_have_count(0)
    assert not seen[0] & seen[1] and seen[0] | seen[1] == items
    for page in pages:
        expect(page.locator(".empty")).to_be_visible()
    assert Decision.objects.count() == 6 == len(set(Decision.objects.values_list("comment", flat=True)))


def test_an_admin_sees_activity_and_audit_pages(browser, live_server, screenshots):
    ReviewItemFactory()
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    log_in(page, live_server.url, AdminFactory())
    page.goto(f"{live_server.url}/review/precision/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Precision of automatic decisions")
    page.goto(f"{live_server.url}/review/activity/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Moderator activity")


def test_a_failed_save_keeps_the_item_and_retry_sends_it_again(browser, live_server, scored_item):
    item = scored_item("you are a complete idiot", {"toxic": 0.9, "insult": 0.8})
    scored_item("second comment", {"toxic": 0.5})
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    log_in(page, live_server.url, ModeratorFactory())
    page.goto(f"{live_server.url}/review/general/work/")
    assert current_item(page) == item.pk
    # The network goes away under the first save (a dropped connection, a restarting proxy).
    # The browser's own offline mode: a request route once let the save through in CI.
    context.set_offline(True)
    page.keyboard.press("r")
    expect(page.locator("#save-error")).to_be_visible()
    expect(page.locator("#save-error")).to_contain_text("Not saved")
    assert current_item(page) == item.pk and not Decision.objects.exists()
    context.set_offline(False)
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".comment-text")).to_contain_text("second comment")
    expect(page.locator("#save-error")).to_be_hidden()
    assert Decision.objects.get().action == "reject" and Decision.objects.get().comment_id == item.comment_id


def test_logging_out_in_another_tab_sends_the_workspace_to_the_log_in_page_and_back(browser, live_server):
    first = ReviewItemFactory(comment__text="from the news desk", comment__source="news")
    moderator = ModeratorFactory()
    context = browser.new_context()
    workspace, other_tab = context.new_page(), context.new_page()
    log_in(workspace, live_server.url, moderator)
    workspace.goto(f"{live_server.url}/review/general/work/?source=news")
    other_tab.goto(f"{live_server.url}/review/")
    other_tab.get_by_role("button", name="Log out").click()
    other_tab.wait_for_url(re.compile(r"/login/"))
    workspace.keyboard.press("a")  # the session is gone: a whole-page trip to log in, not a nested page
    workspace.wait_for_url(re.compile(r"/login/\?next="))
    assert workspace.locator("#workspace").count() == 0
    workspace.fill("#id_username", moderator.username)
    workspace.fill("#id_password", PASSWORD)
    workspace.keyboard.press("Enter")
    workspace.wait_for_url(re.compile(r"/review/general/work/\?source=news$"))
    expect(workspace.locator(".comment-text")).to_contain_text("from the news desk")
    assert not Decision.objects.exists() and first.pk == current_item(workspace)


PHONE_PAGES = [
    *("/review/", "/review/general/", "/review/general/work/", "/review/history/", "/review/activity/"),
    *("/review/precision/", "/models/", "/models/retrain/", "/admin/"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_fits_a_390px_phone_in_light_and_dark(browser, live_server, scored_item, screenshots, scheme):
    # Every label flagged (identity_hate's name is the longest) and an author to act on.
    scored_item("I know where you live and you will regret this", dict.fromkeys(LABELS, 0.97), author_id="user-4711")
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme)
    page = context.new_page()
    log_in(page, live_server.url, AdminFactory())
    for path in PHONE_PAGES:
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
            ".slice(0, 3).map(e => e.tagName + '.' + e.className + '#' + (e.name || ''))"
        )
        assert width <= 390, (path, width, wide)
        if path.startswith("/admin/"):
            continue  # Django's admin has its own light and dark themes
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(17, 21, 28)") == (scheme == "dark"), (path, background)
    page.goto(f"{live_server.url}/review/general/work/")
    page.screenshot(path=screenshots / f"phone-work-{scheme}.png", full_page=True)
    # The decision bar is where a thumb is, without scrolling; a notice has a line to itself.
    expect(page.get_by_role("button", name="Approve")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Reject")).to_be_in_viewport()
    page.keyboard.press("k")  # nothing skipped: a notice
    expect(page.locator(".workbar .notice")).to_contain_text("nothing to go back to")
    assert page.locator(".workbar .notice").bounding_box()["width"] > 300
    # Lists are cards on a phone: no table scrolls sideways, a queue's description has the width.
    for path in ("/review/", "/review/general/", "/review/history/"):
        page.goto(f"{live_server.url}{path}")
        sideways = page.evaluate(
            "[...document.querySelectorAll('table')].filter(t => t.scrollWidth > t.clientWidth + 1).length"
        )
        assert sideways == 0, path
    page.goto(f"{live_server.url}/review/")
    assert page.locator("#queues .muted").first.bounding_box()["width"] > 300
