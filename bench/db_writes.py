"""What each comment costs the database, for the capacity plan (docs/operations.md): the write
statements and the rows inserted per comment on each path, with the starter model active.

- a synchronous batch submit (scored in the request): comments, predictions, review items;
- an asynchronous batch submit (stored now, 202) and then its triage by a worker;
- a moderator's decision on one item.

Counted, not timed: the numbers hold on any machine. Runs on the SQLite default (a temporary
var/) or, with --database postgres, on PostgreSQL 127.0.0.1:5432/toxiscope_db_writes (created
and dropped here).

Usage: python bench/db_writes.py [--database sqlite|postgres] [--batch 100]
"""

import argparse
import os
import re
import sys
import tempfile
from collections import Counter

from common import REPO, corpus, write_result

PG_DB = "toxiscope_db_writes"
WRITE = re.compile(r'^\s*(INSERT(?: OR IGNORE)? INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', re.IGNORECASE)


def counted(run) -> tuple[Counter, int]:
    """The write statements `run()` sends, by verb and table, and all statements it sends."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run()
    writes = Counter()
    for query in captured.captured_queries:
        match = WRITE.match(query["sql"])
        if match:
            writes[f"{match.group(1).split()[0].upper()} {match.group(2)}"] += 1
    return writes, len(captured.captured_queries)


def rows() -> Counter:
    from moderation.models import AuditEvent, Comment, Decision, LabelAnnotation, Prediction, ReviewItem

    return Counter(
        {
            model.__name__: model.objects.count()
            for model in (Comment, Prediction, ReviewItem, Decision, LabelAnnotation, AuditEvent)
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    os.environ["TOXISCOPE_VAR_DIR"] = tempfile.mkdtemp(prefix="toxiscope-writes-")
    os.environ["TOXISCOPE_ARTIFACTS_DIR"] = os.path.join(os.environ["TOXISCOPE_VAR_DIR"], "artifacts")
    os.environ["TOXISCOPE_AUDIT_SAMPLE_RATE"] = "0"  # its rows are a sampled share: counted apart
    os.environ["TOXISCOPE_TEACH_DAILY_BUDGET"] = "0"
    # A broker no worker reads: the async submit's task waits there, and the triage runs below.
    os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/13"
    os.environ["TOXISCOPE_REDIS_PREFIX"] = f"toxiscope-bench-writes-{os.getpid()}"
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.database == "postgres":
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            admin.execute(f"CREATE DATABASE {PG_DB}")
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toxiscope.settings")
    sys.path.insert(0, str(REPO))
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.core.management import call_command

    from moderation.models import Comment, ReviewItem
    from moderation.services import api_key_create, comments_submit_many, comments_triage_waiting
    from moderation.services.review import review_item_claim_next, review_item_decide
    from tests.factories import ApiClientFactory, ModeratorFactory

    call_command("migrate", "--no-input", verbosity=0)
    call_command("install_starter_model", verbosity=0)
    client = ApiClientFactory()
    api_key_create(user=client, name="bench")
    examples, data = corpus()
    texts = [example.text for example in examples]
    batch = args.batch
    results = {}

    def per_comment(name: str, run, comments: int) -> None:
        before = rows()
        writes, statements = counted(run)
        written = rows() - before
        results[name] = {
            "comments": comments,
            "statements": statements,
            "write_statements": dict(writes),
            "write_statements_per_comment": round(sum(writes.values()) / comments, 3),
            "rows_inserted": dict(written),
            "rows_inserted_per_comment": round(sum(written.values()) / comments, 3),
        }
        print(
            f"{name:30} {results[name]['write_statements_per_comment']:6.3f} write statements, "
            f"{results[name]['rows_inserted_per_comment']:5.2f} rows inserted per comment ({statements} statements)"
        )

    sync = [{"text": text, "external_id": f"s{i}"} for i, text in enumerate(texts[:batch])]
    per_comment("sync batch submit", lambda: comments_submit_many(client=client, items=sync), batch)
    deferred = [{"text": text, "external_id": f"a{i}"} for i, text in enumerate(texts[batch : 2 * batch])]
    per_comment(
        "async batch submit (stored)",
        lambda: comments_submit_many(client=client, items=deferred, defer_scoring=True),
        batch,
    )
    ids = list(Comment.objects.filter(external_id__startswith="a").values_list("pk", flat=True))
    per_comment("worker triage of it", lambda: comments_triage_waiting(comment_ids=ids), batch)
    moderator = ModeratorFactory()
    queue = ReviewItem.objects.filter(status="open").first().queue
    item = review_item_claim_next(queue=queue, moderator=moderator)
    per_comment(
        "a moderator's decision",
        lambda: review_item_decide(item_id=item.pk, moderator=moderator, action="reject", labels={"toxic": True}),
        1,
    )
    write_result(f"db_writes_{args.database}", {"data": data, "batch": batch, "paths": results})
    from toxiscope.celery import app

    app.control.purge()  # the async submit's task, which no worker was meant to run
    if args.database == "postgres":
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
