"""HTTP plumbing of the local ClickHouse server: request bodies and response content types.

Python's http.server hands over the raw socket stream; this module reads a request body the
way ClickHouse's server (Poco) does: by Content-Length, or by `Transfer-Encoding: chunked`,
which http.server does not decode. A POST with neither is ClickHouse's error 381
HTTP_LENGTH_REQUIRED. The body is produced as chunks of at most READ_CHUNK bytes so that large
INSERTs stream through, and what a failed request left unread can be drained to keep the
connection usable, as ClickHouse does before answering an error.
"""

from http.server import BaseHTTPRequestHandler
from typing import Iterator

from errors import HTTP_LENGTH_REQUIRED, SYNTAX_ERROR, ClickHouseError

READ_CHUNK = 1 << 20  # bytes read from the socket at a time
MAX_CHUNK_LINE = 4096  # longest chunk-size line of a chunked body


def content_type(fmt: str) -> str:
    """The Content-Type ClickHouse gives a result in output format `fmt`."""
    f = fmt.lower()
    if f.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("csv"):
        return "text/csv; charset=UTF-8; header=" + ("present" if "withnames" in f else "absent")
    if f.startswith("json") or f in ("ndjson", "jsonl"):
        return "application/json; charset=UTF-8"
    if f == "xml":
        return "application/xml; charset=UTF-8"
    if f.startswith(("pretty", "vertical", "markdown", "values", "tskv", "template", "customseparated",
                     "null", "prometheus", "sqlinsert", "raw", "lineasstring", "regexp")):
        return "text/plain; charset=UTF-8"
    return "application/octet-stream"


class BodyReader:
    """The request body as raw chunks: Content-Length or Transfer-Encoding: chunked."""

    def __init__(self, handler: BaseHTTPRequestHandler):
        self._rfile = handler.rfile
        self.broken = False  # the connection cannot be reused (malformed or cut-off body)
        self.chunked = "chunked" in handler.headers.get("Transfer-Encoding", "").lower()
        length = handler.headers.get("Content-Length")
        if self.chunked:
            self._left = None
        elif length is not None:
            try:
                self._left = int(length)
            except ValueError:
                self._left = -1
            if self._left < 0:
                self.broken = True  # cannot know where the next request starts
                raise ClickHouseError(HTTP_LENGTH_REQUIRED, f"Invalid Content-Length: {length!r}")
        elif handler.command == "POST":
            raise ClickHouseError(HTTP_LENGTH_REQUIRED, "The Transfer-Encoding is not chunked and there "
                                                        "is no Content-Length header for POST request")
        else:
            self._left = 0
        self.done = not self.chunked and self._left == 0
        self._gen = self._generate()

    def chunks(self) -> Iterator[bytes]:
        return self._gen

    def drain(self) -> None:
        """Read and drop what is left of the body, so the connection can serve the next request."""
        if self.done or self.broken:
            return
        try:
            for _ in self._gen:
                pass
        except (OSError, ValueError, ClickHouseError):
            self.broken = True

    def _read(self, size: int) -> bytes:
        data = self._rfile.read(size)
        if len(data) < size:
            self.broken = True
            raise ConnectionError("the client closed the connection in the middle of the request body")
        return data

    def _generate(self) -> Iterator[bytes]:
        try:
            if not self.chunked:
                while self._left > 0:
                    data = self._read(min(READ_CHUNK, self._left))
                    self._left -= len(data)
                    yield data
            else:
                while True:
                    line = self._rfile.readline(MAX_CHUNK_LINE)
                    try:
                        size = int(line.split(b";", 1)[0].strip(), 16)
                    except ValueError:
                        self.broken = True
                        raise ClickHouseError(SYNTAX_ERROR, f"Malformed chunked request body: {line[:40]!r}")
                    if size == 0:
                        while self._rfile.readline(MAX_CHUNK_LINE) not in (b"\r\n", b"\n", b""):
                            pass  # trailer fields
                        break
                    while size > 0:
                        data = self._read(min(READ_CHUNK, size))
                        size -= len(data)
                        yield data
                    self._rfile.readline(MAX_CHUNK_LINE)  # the CRLF after the chunk
        except OSError:
            self.broken = True
            raise
        self.done = True
