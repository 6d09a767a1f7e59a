"""Django's SQLite backend, with each process keeping its closed connections to lend again.

The web workers close their connection after every request (toxiscope/gunicorn_conf.py: each
request is a greenlet of its own). Opening one costs Django's ~30 registered functions and four
PRAGMAs, and closing the last one checkpoints the WAL: a fifth of a profiled submit's time
(bench/request_path.py: a submit's p50 17.3 against 8.8 ms, with the rate-limit change). Kept
connections hold no transaction while idle, so they block neither writers nor checkpoints. A
child process never uses one its parent opened (SQLite forbids carrying a connection across
fork()): it starts with none.
"""

import os
import threading

from django.db.backends.sqlite3 import base


class _Idle:
    """This process's idle connections, at most `size` of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pid = os.getpid()
        self.connections: list = []
        self.lock = threading.Lock()
        # What a parent process left here at fork(): never used, and never closed either, since
        # closing it here would release the parent's locks on the file.
        self.inherited: list = []

    def take(self):
        with self.lock:
            self._after_fork()
            return self.connections.pop() if self.connections else None

    def keep(self, connection) -> bool:
        with self.lock:
            self._after_fork()
            if len(self.connections) >= self.size:
                return False
            self.connections.append(connection)
            return True

    def _after_fork(self) -> None:
        if self.pid != os.getpid():
            self.inherited += self.connections
            self.connections, self.pid = [], os.getpid()


class DatabaseWrapper(base.DatabaseWrapper):
    _idle: dict[str, _Idle] = {}  # per database file

    def get_connection_params(self):
        params = super().get_connection_params()
        self.pool_size = params.pop("pool", {}).get("max_size", 8)
        return params

    def _kept(self) -> _Idle:
        name = self.settings_dict["NAME"]
        if name not in self._idle:  # once per file and process, not a lock's worth every request
            self._idle.setdefault(name, _Idle(self.pool_size))
        return self._idle[name]

    def get_new_connection(self, conn_params):
        return self._kept().take() or super().get_new_connection(conn_params)

    def _close(self):
        # One closed inside a transaction is closed for real: SQLite rolls the transaction back.
        if self.in_atomic_block or self.connection.in_transaction or not self._kept().keep(self.connection):
            super()._close()
