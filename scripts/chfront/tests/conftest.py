"""Fixtures for the local ClickHouse server's tests.

Servers are started and stopped through `scripts/clickhouse`, each on a free port (`--port 0`)
in a pytest temporary directory, so the tests exercise the script as well. One server is
shared by the whole session (`ch`); tests that need their own (auth, lifecycle) start one.
Requests are made with plain `http.client`, one connection per request unless a test says
otherwise.
"""

import http.client
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import urlencode, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "clickhouse"
FRONT = REPO / "scripts" / "chfront"
sys.path.insert(0, str(FRONT))  # the server's modules, for unit tests and block encoding


def run_script(*args: str, env: Optional[Dict[str, str]] = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run scripts/clickhouse; CLICKHOUSE_URL is removed unless `env` sets it."""
    full_env = {k: v for k, v in os.environ.items()
                if k != "CLICKHOUSE_URL" and not k.startswith("SLUICE_CLICKHOUSE_")}
    full_env.update(env or {})
    result = subprocess.run([str(SCRIPT), *args], env=full_env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"scripts/clickhouse {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name)


class Client:
    """A tiny ClickHouse HTTP client over http.client."""

    def __init__(self, url: str, user: Optional[str] = None, password: Optional[str] = None,
                 directory: Optional[Path] = None):
        parts = urlsplit(url)
        self.url = url
        self.directory = directory  # the server's --dir, when the test started it
        self.host, self.port = parts.hostname, parts.port
        self.user, self.password = user, password

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method: str = "POST", body: bytes = b"", params: Optional[dict] = None,
                headers: Optional[dict] = None, path: str = "/", conn=None) -> Response:
        url = path + ("?" + urlencode(params) if params else "")
        hdrs = dict(headers or {})
        if self.user is not None and not any(k.lower().startswith("x-clickhouse-user") for k in hdrs):
            hdrs.setdefault("X-ClickHouse-User", self.user)
            hdrs.setdefault("X-ClickHouse-Key", self.password or "")
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, url, body=body if (body or method == "POST") else None, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, resp.headers, resp.read())
        finally:
            if own:
                conn.close()

    def query(self, sql: str, body: bytes = b"", **params) -> bytes:
        """Run `sql` (in the query parameter) and return the body; fail the test on an error."""
        resp = self.request("POST", body, {"query": sql, **params})
        assert resp.status == 200, f"{sql!r} -> {resp.status}: {resp.text}"
        return resp.body

    def text(self, sql: str, **params) -> str:
        return self.query(sql, **params).decode()


def start_server(directory: Path, *extra: str, env: Optional[Dict[str, str]] = None) -> str:
    result = run_script("start", "--port", "0", "--dir", str(directory), *extra, env=env)
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def ch(tmp_path_factory) -> Client:
    directory = tmp_path_factory.mktemp("clickhouse")
    url = start_server(directory)
    yield Client(url, directory=directory)
    run_script("stop", "--dir", str(directory), check=False)


@pytest.fixture
def table(ch: Client) -> str:
    """A fresh table name in the shared server; the table is dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:12]
    yield name
    ch.query(f"DROP TABLE IF EXISTS {name}")
