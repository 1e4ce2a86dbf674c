"""Regular expressions in the embedded engine: MongoDB's dialect (PCRE), matched by
RE2 in linear time.

A pattern is read by ``gateway.pcre.translate``: what PCRE2 refuses is refused as
MongoDB refuses it (``QueryRejected``); what RE2 has no equivalent of (backreferences,
lookaround, ...) is refused by name (``UnsupportedByEngine``) rather than matched
differently; the rest runs on RE2, which cannot backtrack, so no pattern can hold the
engine's worker however it nests quantifiers (``^(\\w+\\s?)+$`` included).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import re2
from bson import Regex

from gateway.display import json_text
from gateway.errors import QueryRejected, UnsupportedByEngine
from gateway.pcre import PatternError, translate

_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


def options_of(flags: int | str) -> str:
    """MongoDB ``$options`` letters of Python/BSON regex flags."""
    if isinstance(flags, str):
        return flags
    return "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag)


def regex_matcher(value: Any, options: str = "") -> Callable[[str], bool]:
    """A function telling whether a string matches ``value`` (a ``bson.Regex``, a
    compiled Python pattern or a pattern string with ``options``), as ``$regex`` does."""
    if isinstance(value, Regex | re.Pattern):
        return compile_pcre(value.pattern, "".join(sorted(set(options_of(value.flags) + options))))
    if isinstance(value, str):
        return compile_pcre(value, "".join(sorted(set(options))))
    raise QueryRejected(f"the database rejected the query: $regex has to be a string, got {json_text(value)}.")


@lru_cache(maxsize=1024)
def compile_pcre(pattern: str, options: str) -> Callable[[str], bool]:
    """A search function for a ``$regex`` ``pattern`` with its ``options`` (MongoDB's
    ``$options`` letters), PCRE's meaning run by RE2 (``gateway.pcre``): True when the pattern
    matches anywhere in the text. Raises ``QueryRejected`` for a pattern PCRE refuses,
    as MongoDB does, ``UnsupportedByEngine`` for one RE2 cannot run (backreferences,
    lookaround, ...), never a different answer."""
    try:
        translation = translate(pattern, options)
    except PatternError as exc:
        raise QueryRejected(
            f"the database rejected the query: invalid regular expression {json_text(pattern)}: {exc}."
        ) from None
    if translation.unsupported is not None:
        raise UnsupportedByEngine(
            f"the embedded engine cannot run the regular expression {json_text(pattern)}: its matcher (RE2) has no "
            f"{translation.unsupported}. MongoDB runs it (set MONGODB_URI); here, rewrite the pattern without it."
        )
    try:
        compiled = re2.compile(translation.re2, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsupportedByEngine(
            f"the embedded engine cannot run the regular expression {json_text(pattern)}: {reason}."
        ) from None
    search = compiled.search
    if not translation.caret_in_multiline:
        return lambda text: search(text) is not None

    def caret_search(text: str) -> bool:
        found = search(text)
        # PCRE2's matches are RE2's without '^' at the end after a final newline: a
        # match that stops short of the end never put '^' there.
        if found is None or not text.endswith("\n") or found.end() < len(text):
            return found is not None
        raise UnsupportedByEngine(
            f"the embedded engine cannot run the regular expression {json_text(pattern)} with the m option on a "
            "value that ends with a newline: PCRE2 never matches '^' after that newline, its matcher (RE2) does. "
            "MongoDB runs it (set MONGODB_URI)."
        )

    return caret_search
