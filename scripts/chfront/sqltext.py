"""Just enough of ClickHouse's SQL lexer to split an HTTP request into statement and data.

ClickHouse's HTTP interface reads the statement from the `query` URL parameter, a line
break and the request body, concatenated. For `INSERT ... FORMAT X` and `INSERT ... VALUES`
the statement ends at the format name (or the VALUES keyword) and everything after it is the
data to insert. This module imitates the rules of ClickHouse's `ParserInsertQuery`:

* after `FORMAT name` the data starts after spaces/tabs/form feeds and at most one `\\r\\n`
  or `\\n`; a `;` right after the format name is a syntax error;
* after `VALUES` the data starts at the next token;
* a `SETTINGS k = v, ...` clause may stand between the column list and `FORMAT`/`VALUES`.

It also finds the output `FORMAT` of other statements (for the response headers) and rejects
several statements in one request, as ClickHouse's HTTP interface does ("Multi-statements
are not allowed"). Everything works on bytes, because the data after an INSERT's FORMAT
clause may be binary; tokens are produced lazily so the scan stops where the data starts.
"""

import itertools
from dataclasses import dataclass
from typing import Iterator, List, NamedTuple, Optional

from errors import SYNTAX_ERROR, ClickHouseError

SPACE = b" \t\n\r\f\v"
# Between `FORMAT name` and the data ClickHouse skips these, then one optional "\r\n"/"\n".
FORMAT_DATA_SKIP = b" \t\f"
WORD_START = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") | set(range(0x80, 0x100))
WORD_BODY = WORD_START | set(b"0123456789$")
NUMBER_BODY = WORD_BODY | set(b".")

WORD, QUOTED_ID, STRING, NUMBER, PUNCT, BAD = "word", "quoted_id", "string", "number", "punct", "bad"

# Statements that read nothing from the body and may run over GET (ClickHouse's readonly=2).
READONLY_STATEMENTS = {"SELECT", "WITH", "SHOW", "DESC", "DESCRIBE", "EXISTS", "EXPLAIN", "SET", "USE", "("}


class Token(NamedTuple):
    kind: str
    start: int
    end: int

    def text(self, buf: bytes) -> str:
        return buf[self.start:self.end].decode("utf-8", "replace")

    def is_word(self, buf: bytes, *words: str) -> bool:
        return self.kind == WORD and self.text(buf).upper() in words


def _skip_quoted(buf: bytes, pos: int, quote: int) -> int:
    """Return the index after the closing quote (backslash escapes and doubled quotes), or -1."""
    n = len(buf)
    pos += 1
    while pos < n:
        c = buf[pos]
        if c == 0x5C:  # backslash
            pos += 2
            continue
        if c == quote:
            if pos + 1 < n and buf[pos + 1] == quote:
                pos += 2
                continue
            return pos + 1
        pos += 1
    return -1


def _skip_block_comment(buf: bytes, pos: int) -> int:
    """ClickHouse's /* */ comments nest. Return the index after the comment, or -1."""
    depth, n = 0, len(buf)
    while pos < n:
        if buf.startswith(b"/*", pos):
            depth += 1
            pos += 2
        elif buf.startswith(b"*/", pos):
            depth -= 1
            pos += 2
            if depth == 0:
                return pos
        else:
            pos += 1
    return -1


def tokens(buf: bytes, pos: int = 0) -> Iterator[Token]:
    """Yield the significant tokens of `buf` from `pos` on (whitespace and comments skipped)."""
    n = len(buf)
    while pos < n:
        c = buf[pos]
        if c in SPACE:
            pos += 1
        elif buf.startswith(b"--", pos) or buf.startswith(b"# ", pos) or buf.startswith(b"#!", pos):
            end = buf.find(b"\n", pos)
            pos = n if end < 0 else end + 1
        elif buf.startswith(b"/*", pos):
            end = _skip_block_comment(buf, pos)
            if end < 0:
                yield Token(BAD, pos, n)
                return
            pos = end
        elif c in (0x27, 0x22, 0x60):  # ' " `
            end = _skip_quoted(buf, pos, c)
            if end < 0:
                yield Token(BAD, pos, n)
                return
            yield Token(STRING if c == 0x27 else QUOTED_ID, pos, end)
            pos = end
        elif c in WORD_START:
            end = pos + 1
            while end < n and buf[end] in WORD_BODY:
                end += 1
            yield Token(WORD, pos, end)
            pos = end
        elif 0x30 <= c <= 0x39:
            end = pos + 1
            while end < n and buf[end] in NUMBER_BODY:
                end += 1
            yield Token(NUMBER, pos, end)
            pos = end
        else:
            yield Token(PUNCT, pos, pos + 1)
            pos += 1


def _skip_group(buf: bytes, toks: Iterator[Token]) -> Optional[Token]:
    """After an opening bracket was consumed, consume up to its closing one; return that token."""
    depth = 1
    for tok in toks:
        if tok.kind == BAD:
            return None
        if tok.kind == PUNCT:
            ch = buf[tok.start]
            if ch in b"([":
                depth += 1
            elif ch in b")]":
                depth -= 1
                if depth == 0:
                    return tok
    return None


@dataclass
class InsertWithData:
    """An `INSERT ... FORMAT X` / `INSERT ... VALUES` whose data follows the statement text."""

    target: str  # "INSERT INTO t (a, b)", without SETTINGS/FORMAT/VALUES
    settings: str  # "SETTINGS k = v, ..." or ""
    format: str  # the input format name; "Values" for VALUES
    data_start: int  # offset in the buffer where the data begins

    def infile_statement(self, path: str) -> str:
        """The same insert reading its data from a file (FROM INFILE comes before SETTINGS)."""
        quoted = path.replace("\\", "\\\\").replace("'", "\\'")
        parts = [self.target, f"FROM INFILE '{quoted}' COMPRESSION 'none'"]
        if self.settings:
            parts.append(self.settings)
        parts.append(f"FORMAT {self.format}")
        return "\n".join(parts)  # a line break ends a "-- comment" in the statement text


def split_insert(buf: bytes) -> Optional[InsertWithData]:
    """If `buf` starts with an INSERT whose data follows inline, say where the data starts.

    Returns None for anything else (other statements, INSERT ... SELECT, INSERT ... FROM
    INFILE, or text too broken to tell): those go to the engine as they are.
    """
    toks = tokens(buf)
    first = next(toks, None)
    if first is None or not first.is_word(buf, "INSERT"):
        return None
    tok = next(toks, None)
    if tok is None or not tok.is_word(buf, "INTO"):
        return None
    tok = next(toks, None)
    if tok is not None and tok.is_word(buf, "TABLE"):
        tok = next(toks, None)
    if tok is not None and tok.is_word(buf, "FUNCTION"):
        name = next(toks, None)
        paren = next(toks, None)
        if name is None or paren is None or buf[paren.start:paren.end] != b"(":
            return None
        if _skip_group(buf, toks) is None:
            return None
    elif tok is not None and tok.kind in (WORD, QUOTED_ID):
        after = next(toks, None)
        if after is not None and after.kind == PUNCT and buf[after.start] == 0x2E:  # "db . table"
            name = next(toks, None)
            if name is None or name.kind not in (WORD, QUOTED_ID):
                return None
            after = None
        if after is not None:
            toks = itertools.chain([after], toks)
    else:
        return None

    settings_start = None
    for tok in toks:
        if tok.kind == BAD:
            return None
        if tok.kind == PUNCT and buf[tok.start] == 0x28 and settings_start is None:  # column list
            if _skip_group(buf, toks) is None:
                return None
            continue
        if tok.kind != WORD:
            continue
        word = tok.text(buf).upper()
        if word == "SETTINGS" and settings_start is None:
            settings_start = tok.start
        elif word == "VALUES":
            data_tok = next(toks, None)
            data_start = len(buf) if data_tok is None else data_tok.start
            return _insert(buf, first.start, settings_start, tok.start, "Values", data_start)
        elif word == "FORMAT":
            name = next(toks, None)
            if name is None or name.kind != WORD:
                return None
            pos = name.end
            if pos < len(buf) and buf[pos] == 0x3B:  # ';'
                raise ClickHouseError(
                    SYNTAX_ERROR,
                    "You have excessive ';' symbol before data for INSERT. Note that there is no ';' "
                    "just after format name, you need to put at least one whitespace symbol before the data",
                )
            while pos < len(buf) and buf[pos] in FORMAT_DATA_SKIP:
                pos += 1
            if pos < len(buf) and buf[pos] == 0x0D:
                pos += 1
            if pos < len(buf) and buf[pos] == 0x0A:
                pos += 1
            return _insert(buf, first.start, settings_start, tok.start, name.text(buf), pos)
        elif word in ("SELECT", "WITH", "FROM", "WATCH") and settings_start is None:
            return None
    return None


def _insert(buf: bytes, start: int, settings_start: Optional[int], keyword_start: int, fmt: str,
            data_start: int) -> InsertWithData:
    target_end = settings_start if settings_start is not None else keyword_start
    target = buf[start:target_end].decode("utf-8", "replace").strip()
    settings = "" if settings_start is None else buf[settings_start:keyword_start].decode("utf-8", "replace").strip()
    return InsertWithData(target, settings, fmt, data_start)


@dataclass
class StatementInfo:
    """What the front needs to know about a statement it passes to the engine as text."""

    keyword: str  # the first word, upper case ("SELECT", "INSERT", ...), or "(" / ""
    output_format: Optional[str]  # an explicit trailing FORMAT clause


def inspect_statement(buf: bytes) -> StatementInfo:
    """First keyword and explicit output format; raises SYNTAX_ERROR for several statements."""
    toks: List[Token] = list(tokens(buf))
    if not toks:
        raise ClickHouseError(SYNTAX_ERROR, "Empty query")
    first = toks[0]
    keyword = first.text(buf).upper() if first.kind == WORD else buf[first.start:first.end].decode("latin-1")

    depth = 0
    end = len(toks)
    for i, tok in enumerate(toks):
        if tok.kind != PUNCT:
            continue
        ch = buf[tok.start]
        if ch in b"([":
            depth += 1
        elif ch in b")]":
            depth -= 1
        elif ch == 0x3B and depth == 0:  # ';'
            if i + 1 < len(toks):
                raise ClickHouseError(
                    SYNTAX_ERROR,
                    f"Syntax error (Multi-statements are not allowed): failed at position {tok.start + 1} "
                    f"(end of query): {buf[tok.start:tok.start + 40].decode('utf-8', 'replace')!r}",
                )
            end = i
            break

    output_format = None
    depth = 0
    for i in range(end):
        tok = toks[i]
        if tok.kind == PUNCT:
            if buf[tok.start] in b"([":
                depth += 1
            elif buf[tok.start] in b")]":
                depth -= 1
            continue
        if depth == 0 and tok.is_word(buf, "FORMAT") and i + 1 < end and toks[i + 1].kind == WORD:
            after = toks[i + 2] if i + 2 < end else None
            if after is None or after.is_word(buf, "SETTINGS"):
                output_format = toks[i + 1].text(buf)
    return StatementInfo(keyword, output_format)
