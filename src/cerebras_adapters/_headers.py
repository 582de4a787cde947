"""Request headers checked before anything is sent: the API key, ``default_headers`` and ``extra_headers``.

This module owns one rule: every header the client would send is a legal HTTP/1.1 field (RFC 9110 §5.1 and
RFC 9110 §5.5), checked locally. Without it h11 refuses the header at send time, httpx reports that as a connection
error, the client retries it as one, and the error text (h11 quotes the bad value) shows the header, which for
``Authorization`` is the key (a key pasted from a file with its trailing newline is the common case). Errors
here name the parameter and the kind and position of the bad character, never the value itself.

It must not send, retry or log anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import RequestValidationError

__all__ = ["check_api_key", "check_headers"]

# RFC 9110 §5.6.2 token characters.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# Visible ASCII plus space and tab inside, visible ASCII at both ends. RFC 9110 allows obs-text (0x80-0xFF) but
# httpx encodes str header values as ASCII, so anything beyond ASCII fails there.
_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20\x09]*[\x21-\x7e])*)?\Z")
_KEY = re.compile(r"[\x21-\x7e]+\Z")


def _describe(text: str, allowed: re.Pattern[str]) -> str:
    """Where and what the first bad character is, without quoting the text."""
    for position, char in enumerate(text):
        if char in "\r\n":
            kind = "a line break"
        elif char in " \t":
            if allowed is _VALUE and 0 < position < len(text.rstrip(" \t")):
                continue
            kind = "whitespace"
        elif char == "\x00" or ord(char) < 0x20 or char == "\x7f":
            kind = f"a control character (U+{ord(char):04X})"
        elif ord(char) > 0x7E:
            kind = f"a non-ASCII character (U+{ord(char):04X})"
        elif allowed.match(char):
            continue
        else:
            kind = f"the character {char!r}"
        return f"{kind} at position {position}"
    return "an invalid character"


def check_api_key(key: object, *, source: str) -> str:
    """The key as given, or a ``RequestValidationError`` that names ``source`` and never shows the key."""
    if not isinstance(key, str):
        raise RequestValidationError(
            f"The API key ({source}) must be a string, not {type(key).__name__}.",
            param="api_key",
            fix="pass the key as a str",
        )
    if not _KEY.match(key):
        where = _describe(key, _KEY)
        raise RequestValidationError(
            f"The API key ({source}) has {where} (the key is {len(key)} characters long; it is not shown). "
            "It cannot be sent in an HTTP header.",
            param="api_key",
            fix="strip it, e.g. api_key=key.strip() (a key read from a file keeps its trailing newline)",
        )
    return key


def check_headers(headers: Mapping[str, object], *, param: str) -> None:
    """Refuse any header name or value that HTTP/1.1 cannot carry; ``param`` is the argument they came from."""
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            shown = repr(name) if isinstance(name, str) and len(name) <= 64 else f"a {type(name).__name__}"
            raise RequestValidationError(
                f"{param} has an invalid header name {shown}: names are tokens (letters, digits and "
                "!#$%&'*+-.^_`|~, no spaces or colons).",
                param=param,
                fix="fix the header name",
            )
        if not isinstance(value, str):
            raise RequestValidationError(
                f"{param}.{name} must be a string, not {type(value).__name__}.",
                param=f"{param}.{name}",
                fix=f"pass str(value) for the {name} header",
            )
        if not _VALUE.match(value):
            raise RequestValidationError(
                f"{param}.{name} has {_describe(value, _VALUE)} (the value is not shown): header values are "
                "printable ASCII without line breaks or surrounding whitespace.",
                param=f"{param}.{name}",
                fix="strip the value and remove line breaks and non-ASCII characters (percent-encode them if "
                "the server expects that)",
            )
