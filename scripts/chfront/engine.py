"""The ClickHouse engine behind the front: one persistent chDB session, one statement at a time.

chDB (`chdb-core`) embeds ClickHouse in this process; `chdb.connect("file:DIR")` opens a
database stored in DIR that survives restarts. A chDB connection is a single ClickHouse
session, so `SET` and `USE` would stick to every later statement. ClickHouse's HTTP interface,
without `session_id`, gives each request its own context instead; this module imitates that:

* URL settings are applied with `SET k = 'v'` just before the statement and put back right
  after it (`SET k = DEFAULT`, or the session's starting value), all under one lock, so the
  next statement never sees them. An unknown setting fails the request with the engine's own
  error 115 UNKNOWN_SETTING.
* the `database` parameter is a `USE db` before the statement and `USE default` after it;
* a client's own `SET` or `USE` statement is undone after it has run;
* `readonly` is not passed to the engine (it could not be taken back in the session); the
  front enforces it itself (see server.py).
"""

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Dict, Optional

import chdb

from errors import UNKNOWN_SETTING, ClickHouseError, from_engine_error

log = logging.getLogger("chfront.engine")

DEFAULT_DATABASE = "default"
SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


@dataclass
class Outcome:
    """What a statement produced: its output and the counters for X-ClickHouse-Summary."""

    data: bytes
    read_rows: int = 0
    read_bytes: int = 0
    written_rows: int = 0
    written_bytes: int = 0
    elapsed_ns: int = 0


class Engine:
    def __init__(self, path: str):
        self._lock = threading.Lock()
        self._conn = chdb.connect(f"file:{path}")
        version, timezone = self._query("SELECT version(), timezone()").data.decode().strip().split("\t")
        self.version = version
        self.timezone = timezone
        # Settings the embedded session starts with changed; a URL setting is put back to these.
        rows = self._query("SELECT name, value FROM system.settings WHERE changed").data.decode()
        self._baseline = dict(line.split("\t", 1) for line in rows.splitlines() if "\t" in line)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def execute(self, sql: str, fmt: str = "TabSeparated", *, database: Optional[str] = None,
                settings: Optional[Dict[str, str]] = None, params: Optional[Dict[str, str]] = None,
                keyword: str = "") -> Outcome:
        """Run one statement with per-statement database and settings; raise ClickHouseError."""
        settings = settings or {}
        for name in settings:
            if not SETTING_NAME.match(name):
                raise ClickHouseError(UNKNOWN_SETTING, f"Unknown setting '{name}'")
        with self._lock:
            if self._conn is None:
                raise ClickHouseError(1001, "The server is shutting down", "STD_EXCEPTION")
            use_db = bool(database) and database != DEFAULT_DATABASE
            try:
                if use_db:
                    self._query(f"USE {quote_identifier(database)}")
                if settings:
                    self._query("SET " + ", ".join(f"{k} = {quote_string(v)}" for k, v in settings.items()))
                return self._query(sql, fmt, params)
            finally:
                self._restore(settings, use_db or keyword == "USE", keyword == "SET")

    def _query(self, sql: str, fmt: str = "TabSeparated", params: Optional[Dict[str, str]] = None) -> Outcome:
        try:
            start = time.monotonic_ns()
            result = self._conn.query(sql, fmt, params=params or None)
            elapsed = time.monotonic_ns() - start
        except Exception as exc:
            raise from_engine_error(exc) from None
        return Outcome(result.bytes() or b"", result.rows_read(), result.bytes_read(), result.rows_written(),
                       result.bytes_written(), elapsed)

    def _reset_value(self, name: str) -> str:
        return quote_string(self._baseline[name]) if name in self._baseline else "DEFAULT"

    def _restore(self, settings: Dict[str, str], database_changed: bool, client_set: bool) -> None:
        """Undo the per-statement state; errors here are logged, never reported to the client."""
        names = list(settings)
        if client_set:
            rows = self._query("SELECT name, value FROM system.settings WHERE changed").data.decode()
            for line in rows.splitlines():
                name, _, value = line.partition("\t")
                if self._baseline.get(name) != value:
                    names.append(name)
        names = [n for n in dict.fromkeys(names) if n != "database"]
        if names:
            try:
                self._query("SET " + ", ".join(f"{n} = {self._reset_value(n)}" for n in names))
            except ClickHouseError:
                for name in names:  # one of them is unknown: reset the others one by one
                    try:
                        self._query(f"SET {name} = {self._reset_value(name)}")
                    except ClickHouseError:
                        pass
        if database_changed:
            try:
                self._query(f"USE {DEFAULT_DATABASE}")
            except ClickHouseError as exc:
                log.error("could not switch back to the default database: %s", exc)
