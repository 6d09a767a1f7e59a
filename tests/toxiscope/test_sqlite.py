"""toxiscope/sqlite: the web workers' SQLite connections, kept per process and lent again."""

import os

import pytest
from django.db.utils import ConnectionHandler


@pytest.fixture(autouse=True)
def files_of_their_own(django_db_blocker):
    """These tests open SQLite files of their own, not the test database."""
    with django_db_blocker.unblock():
        yield


def wrapper(path, max_size=2):
    """A connection to the SQLite file `path` as the web workers have it (toxiscope/settings.py)."""
    handler = ConnectionHandler(
        {"default": {"ENGINE": "toxiscope.sqlite", "NAME": str(path), "OPTIONS": {"pool": {"max_size": max_size}}}}
    )
    return handler["default"]


def test_a_closed_connection_is_lent_again_and_sees_every_write(tmp_path):
    first, second = wrapper(tmp_path / "db"), wrapper(tmp_path / "db")
    first.cursor().execute("CREATE TABLE t (x INTEGER)")
    raw = first.connection
    first.close()
    second.cursor().execute("INSERT INTO t VALUES (1)")
    assert second.connection is raw  # not opened again
    second.close()
    first.ensure_connection()
    assert first.connection is raw and first.cursor().execute("SELECT x FROM t").fetchall() == [(1,)]


def test_at_most_max_size_are_kept(tmp_path):
    wrappers = [wrapper(tmp_path / "db") for _ in range(3)]
    raws = []
    for each in wrappers:
        each.ensure_connection()
        raws.append(each.connection)
    for each in wrappers:
        each.close()
    lent = [wrapper(tmp_path / "db") for _ in range(3)]
    for each in lent:
        each.ensure_connection()
    assert sum(any(each.connection is raw for raw in raws) for each in lent) == 2


def test_one_closed_inside_a_transaction_is_closed_and_its_writes_undone(tmp_path):
    first = wrapper(tmp_path / "db")
    first.cursor().execute("CREATE TABLE t (x INTEGER)")
    raw = first.connection
    first.cursor().execute("BEGIN")
    first.cursor().execute("INSERT INTO t VALUES (1)")
    first.close()
    second = wrapper(tmp_path / "db")
    assert second.cursor().execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert second.connection is not raw


def test_a_forked_child_never_uses_its_parents_connections(tmp_path):
    first = wrapper(tmp_path / "db")
    first.cursor().execute("CREATE TABLE t (x INTEGER)")
    raw = first.connection
    first.close()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's verdict is its exit status
        try:
            second = wrapper(tmp_path / "db")
            second.cursor().execute("INSERT INTO t VALUES (1)")
            os._exit(0 if second.connection is not raw else 1)
        except BaseException:
            os._exit(2)
    assert os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0
    parent = wrapper(tmp_path / "db")
    assert parent.cursor().execute("SELECT count(*) FROM t").fetchone() == (1,)
    assert parent.connection is raw  # still the parent's own
