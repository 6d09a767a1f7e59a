"""Load on the SQLite default, run by test_sqlite_default.py in a process of its own (its settings
must be the SQLite ones, its database migrated): prints what every request answered, as JSON.

Web requests go through Django's whole request handler, each thread with its own connection, as
gunicorn's workers and threads would: 20 clients submit one external_id at once while a
256-comment batch is stored, then two moderators decide at the same moment, each their own item
and both the same one.
"""

import json
import os
import sys
import threading
from collections import Counter

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toxiscope.settings")
django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from moderation.models import Comment, Decision, ReviewItem  # noqa: E402
from moderation.roles import API_CLIENT, MODERATOR  # noqa: E402
from moderation.services import api_key_create  # noqa: E402


def at_once(calls) -> list:
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test's verdict names it
            results[index] = repr(exc)[:300]
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> int:
    assert connection.vendor == "sqlite", connection.vendor
    call_command("install_starter_model", verbosity=0)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    client_user = User.objects.create_user("site")
    client_user.groups.add(Group.objects.get(name=API_CLIENT))
    key = api_key_create(user=client_user, name="load")[1]
    moderators = [User.objects.create_user(f"mod{i}") for i in range(2)]
    for moderator in moderators:
        moderator.groups.add(Group.objects.get(name=MODERATOR))

    def submit(body):
        api = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="127.0.0.1")
        return api.post("/api/v1/comments/", json.dumps(body), content_type="application/json").status_code

    batch = [{"text": f"batch comment {i}, you fool", "external_id": f"batch-{i}"} for i in range(256)]
    submits = at_once(
        [lambda: submit(batch)] + [lambda: submit({"text": "same", "external_id": "race"}) for _ in range(20)]
    )

    browsers = []
    for moderator in moderators:
        browser = Client(HTTP_HOST="127.0.0.1")
        browser.force_login(moderator)
        browser.get("/review/general/work/")  # claims an item
        browsers.append(browser)
    own = [ReviewItem.objects.get(claimed_by=moderator).pk for moderator in moderators]
    decide = "/review/general/items/{}/decide/"
    decisions = at_once(
        [
            lambda b=b, i=i: b.post(decide.format(i), {"action": "approve"}).status_code
            for b, i in zip(browsers, own, strict=True)
        ]
    )
    # Both on one item: one decision is stored, the other moderator is told it was taken.
    browsers[0].get("/review/general/work/")
    shared = ReviewItem.objects.filter(claimed_by=moderators[0], status="open").first().pk
    same = at_once([lambda b=b: b.post(decide.format(shared), {"action": "reject"}).status_code for b in browsers])
    print(
        json.dumps(
            {
                "submits": dict(Counter(submits)),
                "decisions": dict(Counter(decisions + same)),
                "race_comments": Comment.objects.filter(external_id="race").count(),
                "batch_comments": Comment.objects.filter(external_id__startswith="batch-").count(),
                "decided": Decision.objects.count(),
                "shared_decisions": Decision.objects.filter(review_item_id=shared).count(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
