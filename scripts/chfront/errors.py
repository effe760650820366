"""ClickHouse error codes and the way ClickHouse's HTTP interface reports errors.

ClickHouse answers a failed request with an HTTP status chosen from the error code
(`exceptionCodeToHTTPStatus` in ClickHouse's src/Server/HTTP), the header
`X-ClickHouse-Exception-Code: N` and a body `Code: N. DB::Exception: <message>. (NAME) (version V)`.
chDB raises Python exceptions whose text already is `Code: N. DB::Exception: <message>. (NAME)`,
sometimes with the same prefix repeated; `from_engine_error` turns them into one clean error.
"""

import re

# Error codes (ClickHouse's src/Common/ErrorCodes.cpp), those this front raises or maps.
CANNOT_PARSE_TEXT = 6
THERE_IS_NO_COLUMN = 8
DUPLICATE_COLUMN = 15
CANNOT_PARSE_ESCAPE_SEQUENCE = 25
CANNOT_PARSE_QUOTED_STRING = 26
CANNOT_PARSE_INPUT_ASSERTION_FAILED = 27
CANNOT_READ_ALL_DATA = 33
BAD_ARGUMENTS = 36
UNKNOWN_ELEMENT_IN_AST = 37
CANNOT_PARSE_DATE = 38
TOO_LARGE_SIZE_COMPRESSED = 39
CHECKSUM_DOESNT_MATCH = 40
CANNOT_PARSE_DATETIME = 41
ILLEGAL_COLUMN = 44
UNKNOWN_FUNCTION = 46
UNKNOWN_IDENTIFIER = 47
NOT_IMPLEMENTED = 48
UNKNOWN_TYPE = 50
TYPE_MISMATCH = 53
UNKNOWN_STORAGE = 56
UNKNOWN_TABLE = 60
SYNTAX_ERROR = 62
UNKNOWN_AGGREGATE_FUNCTION = 63
CANNOT_PARSE_NUMBER = 72
UNKNOWN_FORMAT = 73
CANNOT_OPEN_FILE = 76
UNKNOWN_TYPE_OF_QUERY = 78
UNKNOWN_DATABASE = 81
UNKNOWN_COMPRESSION_METHOD = 89
UNKNOWN_SETTING = 115
INCORRECT_DATA = 117
UNKNOWN_TYPE_OF_AST_NODE = 123
UNKNOWN_DIRECTION_OF_SORTING = 152
TIMEOUT_EXCEEDED = 159
READONLY = 164
TOO_DEEP_AST = 167
TOO_BIG_AST = 168
UNKNOWN_USER = 192
WRONG_PASSWORD = 193
REQUIRED_PASSWORD = 194
SOCKET_TIMEOUT = 209
UNEXPECTED_AST_STRUCTURE = 223
QUERY_IS_TOO_LARGE = 229
CANNOT_DECOMPRESS = 271
VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE = 321
UNKNOWN_DATABASE_ENGINE = 336
CANNOT_PARSE_UUID = 376
HTTP_LENGTH_REQUIRED = 381
CANNOT_COMPILE_REGEXP = 427
CANNOT_SCHEDULE_TASK = 439
CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING = 441
ACCESS_DENIED = 497
UNKNOWN_ROLE = 511
SET_NON_GRANTED_ROLE = 512
AUTHENTICATION_FAILED = 516
CANNOT_PARSE_IPV4 = 675
CANNOT_PARSE_IPV6 = 676
UNSUPPORTED_MEDIA_TYPE = 779
STD_EXCEPTION = 1001

# Names for the codes this module knows, for errors the front raises itself.
NAMES = {value: name for name, value in globals().items() if name.isupper() and isinstance(value, int)}

# HTTP status for an error code, as ClickHouse's exceptionCodeToHTTPStatus chooses it.
_STATUS_GROUPS = {
    401: {REQUIRED_PASSWORD},
    403: {UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, SET_NON_GRANTED_ROLE, ACCESS_DENIED},
    400: {BAD_ARGUMENTS, CANNOT_COMPILE_REGEXP, CANNOT_PARSE_TEXT, CANNOT_PARSE_ESCAPE_SEQUENCE,
          CANNOT_PARSE_QUOTED_STRING, CANNOT_PARSE_DATE, CANNOT_PARSE_DATETIME, CANNOT_PARSE_NUMBER,
          CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING, CANNOT_PARSE_IPV4, CANNOT_PARSE_IPV6,
          CANNOT_PARSE_INPUT_ASSERTION_FAILED, CANNOT_PARSE_UUID, DUPLICATE_COLUMN, ILLEGAL_COLUMN,
          UNKNOWN_ELEMENT_IN_AST, UNKNOWN_TYPE_OF_AST_NODE, THERE_IS_NO_COLUMN, TOO_DEEP_AST, TOO_BIG_AST,
          UNEXPECTED_AST_STRUCTURE, SYNTAX_ERROR, INCORRECT_DATA, TYPE_MISMATCH,
          VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE},
    404: {UNKNOWN_TABLE, UNKNOWN_FUNCTION, UNKNOWN_IDENTIFIER, UNKNOWN_TYPE, UNKNOWN_STORAGE, UNKNOWN_DATABASE,
          UNKNOWN_SETTING, UNKNOWN_DIRECTION_OF_SORTING, UNKNOWN_AGGREGATE_FUNCTION, UNKNOWN_FORMAT,
          UNKNOWN_DATABASE_ENGINE, UNKNOWN_TYPE_OF_QUERY, UNKNOWN_ROLE},
    413: {QUERY_IS_TOO_LARGE},
    501: {NOT_IMPLEMENTED},
    503: {SOCKET_TIMEOUT, CANNOT_OPEN_FILE, CANNOT_SCHEDULE_TASK},
    411: {HTTP_LENGTH_REQUIRED},
    408: {TIMEOUT_EXCEEDED},
    415: {UNSUPPORTED_MEDIA_TYPE},
}
_STATUS_BY_CODE = {code: status for status, codes in _STATUS_GROUPS.items() for code in codes}


def http_status(code: int) -> int:
    return _STATUS_BY_CODE.get(code, 500)


class ClickHouseError(Exception):
    """An error reported the ClickHouse way. `text` is `Code: N. DB::Exception: message. (NAME)`."""

    def __init__(self, code: int, message: str, name: str = ""):
        self.code = code
        name = name or NAMES.get(code, "")
        message = message.rstrip()
        text = f"Code: {code}. DB::Exception: {message}"
        if name:
            text += ("" if message.endswith(".") else ".") + f" ({name})"
        self.text = text
        super().__init__(text)

    @classmethod
    def from_text(cls, code: int, text: str) -> "ClickHouseError":
        err = cls.__new__(cls)
        err.code, err.text = code, text
        Exception.__init__(err, text)
        return err

    def body(self, version: str) -> bytes:
        return f"{self.text} (version {version})\n".encode("utf-8", "replace")


_CODE_PREFIX = re.compile(r"Code: (\d+)\. DB::Exception: ")
_NESTED_SUFFIX = re.compile(r" \(version [^()]*\)\. \(\w+\)$")
_VERSION_SUFFIX = re.compile(r" \(version [^()]*(\([^()]*\))?\)$")


def from_engine_error(exc: BaseException) -> ClickHouseError:
    """Turn a chDB exception into a ClickHouseError with the engine's own code and message."""
    text = str(exc).strip()
    match = _CODE_PREFIX.match(text)
    if not match:
        return ClickHouseError(STD_EXCEPTION, text or type(exc).__name__, "STD_EXCEPTION")
    code = int(match.group(1))
    prefix = match.group(0)
    # chDB sometimes wraps its own message again: "Code: 73. DB::Exception: Code: 73. DB::Exception:
    # Unknown format X. (UNKNOWN_FORMAT) (version 26.9.2.1). (UNKNOWN_FORMAT)". Keep the inner one.
    while text.startswith(prefix + prefix):
        text = _NESTED_SUFFIX.sub("", text[len(prefix):])
    text = _VERSION_SUFFIX.sub("", text)  # the front adds the version itself
    return ClickHouseError.from_text(code, text)
