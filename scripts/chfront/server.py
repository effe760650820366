"""A local ClickHouse HTTP server: ClickHouse's HTTP interface in front of chDB.

The official ClickHouse server cannot be installed where sluice is developed, but chDB embeds
a real ClickHouse engine in Python. This server speaks the part of ClickHouse's HTTP interface
that sluice and the Rust `clickhouse` crate use, and runs every statement in chDB with the
data on disk (see engine.py). `scripts/clickhouse start|stop|status|url` manages it.

Imitated from ClickHouse's HTTP interface (src/Server/HTTPHandler.cpp):

* `GET /ping` and `GET /` answer `Ok.\\n`; any other path without a query is 404.
* The statement is the `query` URL parameter, a line break and the request body; GET, POST,
  HEAD; HTTP/1.1 keep-alive with Content-Length; chunked request bodies.
* `INSERT ... FORMAT X` / `INSERT ... VALUES` with the data after the statement (in the body,
  or in the query text): the data streams into a temporary file that the engine reads with
  `INSERT ... FROM INFILE` (sqltext.py finds where the data starts).
* Output in the statement's FORMAT clause, else `default_format` / `X-ClickHouse-Format`,
  else TabSeparated; `database` / `X-ClickHouse-Database`; `param_<name>` query parameters;
  every other URL parameter that is not one of the interface's own is a setting for that
  statement only.
* Request `Content-Encoding` and native compressed blocks (`decompress=1`); response
  `compress=1` and `enable_http_compression=1` + `Accept-Encoding` (compression.py).
* Users: one user name and password, as `X-ClickHouse-User`/`X-ClickHouse-Key` headers,
  HTTP basic auth, or `user`/`password` parameters (mixing them is an error, as in ClickHouse).
* Errors: status from the code, `X-ClickHouse-Exception-Code`, body
  `Code: N. DB::Exception: message. (NAME) (version V)` (errors.py). GET requests are readonly.
* Response headers X-ClickHouse-Summary, -Format, -Query-Id, -Timezone, -Server-Display-Name.

Not imitated: sessions (`session_id` is accepted and ignored: each request stands alone),
progress headers, external data (multipart/form-data), streaming of results (each result is
built in memory first), and `result_rows` in the summary of a SELECT (always 0).
"""

import argparse
import base64
import binascii
import fcntl
import hmac
import json
import logging
import os
import re
import signal
import socket
import socketserver
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from compression import (NativeBlockDecoder, choose_response_encoding, content_decoder, decode_stream,
                         encode_blocks, encode_response)
from engine import Engine, Outcome
from errors import (AUTHENTICATION_FAILED, READONLY, REQUIRED_PASSWORD, STD_EXCEPTION, SYNTAX_ERROR,
                    ClickHouseError, http_status)
from httpio import BodyReader, content_type
from sqltext import READONLY_STATEMENTS, inspect_statement, split_insert

log = logging.getLogger("chfront")

DEFAULT_PORT = 8123
DEFAULT_USER = "default"
MAX_QUERY_SIZE = 262144  # ClickHouse's max_query_size default: bytes of statement text parsed
KEEP_ALIVE_TIMEOUT = 30  # seconds an idle keep-alive connection stays open
BODY_READ_TIMEOUT = 300  # seconds a request body may pause (a client streaming a long INSERT)
LOG_QUERY_CHARS = 200
DATA_DIRS = ("/dev/shm", tempfile.gettempdir())  # where INSERT data is staged for FROM INFILE
STAGING_PREFIX = "chfront-insert-"  # + "<server pid>-"; see _staging_prefix
PID_FILE, PORT_FILE, LOCK_FILE, DATA_SUBDIR = "server.pid", "server.port", "server.lock", "data"

# URL parameters that belong to the HTTP interface itself and are never settings.
HTTP_OWN_PARAMS = {
    "query", "database", "default_format", "user", "password", "quota_key", "compress", "decompress",
    "query_id", "session_id", "session_timeout", "session_check", "close_session", "stacktrace",
    "buffer_size", "wait_end_of_query", "client_protocol_version", "role",
}
QUERY_PARAM_PREFIX = "param_"
READONLY_SETTING = re.compile(rb"\breadonly\b", re.IGNORECASE)
TRUE_VALUES = {"1", "true", "True", "TRUE"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chfront"
    sys_version = ""
    timeout = KEEP_ALIVE_TIMEOUT

    server: "FrontServer"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # every request is logged once, by _handle

    # --- one request ---------------------------------------------------------------------

    def _handle(self) -> None:
        start = time.monotonic()
        url = urlsplit(self.path)
        params: Dict[str, str] = {}
        for key, value in parse_qsl(url.query, keep_blank_values=True):
            params.setdefault(key, value)  # the first occurrence wins, as in ClickHouse
        self._body: Optional[BodyReader] = None
        self._statement = ""
        self._compress_errors = False
        self._error = ""
        self._query_id = params.get("query_id") or self.headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())
        status = 0
        try:
            has_query = "query" in params or self.command == "POST"
            if url.path == "/ping" or url.path == "/replicas_status" or (url.path == "/" and not has_query):
                status = self._respond(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
            elif not has_query:
                body = (f"There is no handle {url.path}\n\nUse / or /ping for health checks.\n"
                        "Send queries from your program with POST method or GET /?query=...\n").encode()
                status = self._respond(404, body, {"Content-Type": "text/plain; charset=UTF-8"})
            else:
                status = self._query(params)
        except ClickHouseError as err:
            self._error = err.text
            status = self._respond_error(err)
        except (ConnectionError, socket.timeout) as exc:
            log.info("%s: %s", self.client_address[0], exc)
            self.close_connection = True
        except Exception as exc:  # a bug in the front: still answer like ClickHouse would
            log.exception("internal error")
            err = ClickHouseError(STD_EXCEPTION, f"{type(exc).__name__}: {exc}", "STD_EXCEPTION")
            self._error = err.text
            status = self._respond_error(err)
        finally:
            self.connection.settimeout(KEEP_ALIVE_TIMEOUT)
            self._log_request(url, params, status, time.monotonic() - start)

    def _query(self, params: Dict[str, str]) -> int:
        srv = self.server
        self.connection.settimeout(BODY_READ_TIMEOUT)
        self._body = BodyReader(self)  # before anything can fail, so that errors can drain it
        user = self._authenticate(params)
        self._compress_errors = params.get("compress") in TRUE_VALUES
        database = self.headers.get("X-ClickHouse-Database") or params.get("database") or None
        default_format = self.headers.get("X-ClickHouse-Format") or params.get("default_format") or "TabSeparated"
        settings = {k: v for k, v in params.items()
                    if k and k not in HTTP_OWN_PARAMS and not k.startswith(QUERY_PARAM_PREFIX)}
        query_params = {k[len(QUERY_PARAM_PREFIX):]: v for k, v in params.items() if k.startswith(QUERY_PARAM_PREFIX)}
        readonly = _readonly_level(settings.pop("readonly", "0"))
        if self.command in ("GET", "HEAD") and readonly == 0:
            readonly = 2  # ClickHouse: only readonly queries over GET
        try:
            max_query_size = int(settings.get("max_query_size", MAX_QUERY_SIZE))
        except ValueError:
            max_query_size = MAX_QUERY_SIZE

        stream = decode_stream(self._body.chunks(), content_decoder(self.headers.get("Content-Encoding", "")))
        if params.get("decompress") in TRUE_VALUES:
            verify = settings.get("http_native_compression_disable_checksumming_on_decompress") not in TRUE_VALUES
            stream = decode_stream(stream, NativeBlockDecoder(verify))

        # The statement: the query parameter, a line break, then the body; parse at most max_query_size.
        head = bytearray()
        if params.get("query"):
            head += params["query"].encode("utf-8") + b"\n"
        exhausted = False
        while len(head) <= max_query_size:
            chunk = next(stream, None)
            if chunk is None:
                exhausted = True
                break
            head += chunk
        head = bytes(head)

        insert = split_insert(head[:max_query_size + 1] if not exhausted else head)
        if insert is not None:
            self._statement = head[:insert.data_start].decode("utf-8", "replace")
            self._check_readonly(readonly, "INSERT", user)
            outcome = self._insert(insert, head, stream, database, settings)
            return self._respond_result(outcome.data, None, outcome, params, insert=True)

        self._statement = head[:LOG_QUERY_CHARS * 4].decode("utf-8", "replace")
        if not exhausted:
            raise ClickHouseError(SYNTAX_ERROR, f"Max query size exceeded (max_query_size = {max_query_size})")
        info = inspect_statement(head)
        self._check_readonly(readonly, info.keyword, user)
        fmt = info.output_format or default_format
        if info.keyword == "SET" and READONLY_SETTING.search(head):
            # Over HTTP without a session a SET lasts one request: it changes nothing. This one
            # must not reach the engine's session, where readonly could not be taken back.
            return self._respond_result(b"", fmt, Outcome(b""), params, insert=False)
        outcome = srv.engine.execute(head.decode("utf-8", "replace"), fmt, database=database, settings=settings,
                                     params=query_params, keyword=info.keyword)
        return self._respond_result(outcome.data, fmt, outcome, params, insert=False)

    def _insert(self, insert, head: bytes, stream: Iterator[bytes], database, settings):
        """Stage the INSERT's data in a file and let the engine read it with FROM INFILE."""
        fd, path = _staging_file()
        with _STAGED_LOCK:
            _STAGED.add(path)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(head[insert.data_start:])
                for chunk in stream:
                    out.write(chunk)
            return self.server.engine.execute(insert.infile_statement(path), database=database,
                                              settings=settings, keyword="INSERT")
        finally:
            with _STAGED_LOCK:
                _STAGED.discard(path)
            os.unlink(path)

    def _authenticate(self, params: Dict[str, str]) -> str:
        """Check the credentials the ways ClickHouse accepts them; return the user name."""
        header_user = self.headers.get("X-ClickHouse-User", "")
        header_key = self.headers.get("X-ClickHouse-Key", "")
        authorization = self.headers.get("Authorization")
        in_params = "user" in params or "password" in params
        if header_user or header_key:
            if authorization or in_params:
                raise ClickHouseError(AUTHENTICATION_FAILED, "Invalid authentication: it is not allowed to use "
                                      "X-ClickHouse HTTP headers and other authentication methods simultaneously")
            user, password = header_user or DEFAULT_USER, header_key
        elif authorization:
            if in_params:
                raise ClickHouseError(AUTHENTICATION_FAILED, "Invalid authentication: it is not allowed to use "
                                      "Authorization HTTP header and authentication via parameters simultaneously")
            scheme, _, encoded = authorization.partition(" ")
            if scheme.lower() != "basic":
                raise ClickHouseError(AUTHENTICATION_FAILED,
                                      f"Invalid authentication: '{scheme}' HTTP Authorization scheme is not supported")
            try:
                user, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise ClickHouseError(AUTHENTICATION_FAILED, "Invalid authentication: malformed Basic credentials")
        else:
            user, password = params.get("user", DEFAULT_USER), params.get("password", "")
        srv = self.server
        if not (hmac.compare_digest(user.encode(), srv.user.encode())
                and hmac.compare_digest(password.encode(), srv.password.encode())):
            raise ClickHouseError(AUTHENTICATION_FAILED, f"{user}: Authentication failed: password is incorrect, "
                                                         "or there is no user with such name")
        return user

    def _check_readonly(self, level: int, keyword: str, user: str) -> None:
        if level == 0 or (keyword in READONLY_STATEMENTS and not (level == 1 and keyword == "SET")):
            return
        hint = (". For queries over HTTP, method GET implies readonly. You should use method POST for "
                "modifying queries") if self.command in ("GET", "HEAD") else ""
        raise ClickHouseError(READONLY, f"{user}: Cannot execute query in readonly mode{hint}")

    # --- answers -------------------------------------------------------------------------

    def _common_headers(self) -> Dict[str, str]:
        return {"X-ClickHouse-Server-Display-Name": self.server.display_name,
                "X-ClickHouse-Query-Id": self._query_id,
                "X-ClickHouse-Timezone": self.server.engine.timezone}

    def _respond_result(self, data: bytes, fmt: Optional[str], outcome, params: Dict[str, str], insert: bool) -> int:
        summary = {
            "read_rows": outcome.read_rows, "read_bytes": outcome.read_bytes,
            "written_rows": outcome.written_rows, "written_bytes": outcome.written_bytes,
            "total_rows_to_read": outcome.read_rows if not insert else 0,
            "result_rows": outcome.written_rows if insert else 0,
            "result_bytes": outcome.written_bytes if insert else len(data),
            "elapsed_ns": outcome.elapsed_ns, "memory_usage": 0,
        }
        headers = self._common_headers()
        headers["X-ClickHouse-Summary"] = json.dumps({k: str(v) for k, v in summary.items()}, separators=(",", ":"))
        if fmt:
            headers["X-ClickHouse-Format"] = fmt
            headers["Content-Type"] = content_type(fmt)
        else:
            headers["Content-Type"] = "text/plain; charset=UTF-8"
        if params.get("compress") in TRUE_VALUES:
            data = encode_blocks(data)
        if params.get("enable_http_compression") in TRUE_VALUES:
            encoding = choose_response_encoding(self.headers.get("Accept-Encoding", ""))
            if encoding:
                data = encode_response(data, encoding)
                headers["Content-Encoding"] = encoding
        return self._respond(200, data, headers)

    def _respond_error(self, err: ClickHouseError) -> int:
        if self._body is not None:
            self._body.drain()
            if self._body.broken:
                self.close_connection = True
        elif self.command == "POST":
            self.close_connection = True  # the body was never read
        body = err.body(self.server.engine.version)
        if self._compress_errors:
            body = encode_blocks(body)
        headers = self._common_headers()
        headers.update({"Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": str(err.code)})
        if err.code == REQUIRED_PASSWORD:
            headers["WWW-Authenticate"] = 'Basic realm="ClickHouse server HTTP API"'
        try:
            return self._respond(http_status(err.code), body, headers)
        except OSError:
            self.close_connection = True
            return http_status(err.code)

    def _respond(self, status: int, body: bytes, headers: Dict[str, str]) -> int:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        else:
            self.send_header("Connection", "Keep-Alive")
            self.send_header("Keep-Alive", f"timeout={KEEP_ALIVE_TIMEOUT}")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return status

    def _log_request(self, url, params: Dict[str, str], status: int, seconds: float) -> None:
        shown = {k: ("***" if k == "password" else v) for k, v in params.items() if k != "query"}
        path = url.path + ("?" + urlencode(shown, safe="*") if shown else "")
        statement = " ".join(self._statement.split())[:LOG_QUERY_CHARS]
        line = "%s %s %s %s %.1f ms %s" % (self.client_address[0], self.command, path[:300], status or "-",
                                          seconds * 1000, json.dumps(statement, ensure_ascii=False) if statement else "")
        if self._error:
            line += " -> " + self._error[:LOG_QUERY_CHARS]
        log.info("%s", line)


def _readonly_level(value: str) -> int:
    try:
        return max(0, int(value))
    except ValueError:
        return 1 if value in TRUE_VALUES else 0


# Staging files of INSERTs in progress: a server stopped (SIGTERM) in the middle of one
# exits without its request thread's cleanup, so main() removes what is left here.
_STAGED = set()
_STAGED_LOCK = threading.Lock()


def _remove_staged() -> None:
    with _STAGED_LOCK:
        for path in list(_STAGED):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        _STAGED.clear()


def _staging_prefix(pid: int) -> str:
    """Staging files carry their server's pid, so a server's own files can be told apart."""
    return f"{STAGING_PREFIX}{pid}-"


def _staging_dir() -> Optional[str]:
    for directory in DATA_DIRS:
        if os.path.isdir(directory) and os.access(directory, os.W_OK):
            return directory
    return None


def _staging_file() -> Tuple[int, str]:
    return tempfile.mkstemp(prefix=_staging_prefix(os.getpid()), suffix=".bin", dir=_staging_dir())


def _remove_stale_staging() -> None:
    """Remove staging files of servers that died without cleaning up (SIGKILL, a crash)."""
    for directory in DATA_DIRS:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if not name.startswith(STAGING_PREFIX):
                continue
            pid_text = name[len(STAGING_PREFIX):].partition("-")[0]
            if not pid_text.isdigit():
                continue
            try:
                os.kill(int(pid_text), 0)
                continue  # that server is alive
            except ProcessLookupError:
                pass
            except PermissionError:
                continue  # alive, another user's
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address, engine: Engine, user: str, password: str):
        self.engine = engine
        self.user = user
        self.password = password
        self.display_name = socket.gethostname()
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind also resolves the host name (getfqdn), which can hang offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def _write_file(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        out.write(text + "\n")
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Local ClickHouse HTTP server over chDB (see module docstring).")
    parser.add_argument("--dir", required=True, help="server directory: data/, server.pid, server.port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--user", default=os.environ.get("SLUICE_CLICKHOUSE_USER") or DEFAULT_USER)
    parser.add_argument("--password", default=None,
                        help="default: $SLUICE_CLICKHOUSE_PASSWORD, else empty (prefer the variable)")
    args = parser.parse_args(argv)
    password = args.password if args.password is not None else os.environ.get("SLUICE_CLICKHOUSE_PASSWORD", "")

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    directory = os.path.abspath(args.dir)
    os.makedirs(os.path.join(directory, DATA_SUBDIR), exist_ok=True)
    lock = open(os.path.join(directory, LOCK_FILE), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        log.error("another local ClickHouse server is already using %s", directory)
        return 1

    _remove_stale_staging()
    engine = Engine(os.path.join(directory, DATA_SUBDIR))
    try:
        server = FrontServer((args.host, args.port), engine, args.user, password)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
        engine.close()
        return 1
    port = server.server_address[1]
    pid_path, port_path = os.path.join(directory, PID_FILE), os.path.join(directory, PORT_FILE)
    _write_file(pid_path, str(os.getpid()))
    _write_file(port_path, str(port))

    def stop(signum, _frame):
        log.info("received signal %d, stopping", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("ClickHouse %s (chDB) serving %s at http://%s:%d", engine.version, directory, args.host, port)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        _remove_staged()
        engine.close()
        for path in (port_path, pid_path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
