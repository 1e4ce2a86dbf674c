"""Regular expressions in conditions: checked as MongoDB checks them, sent as MongoDB
reads them.

A client's pattern is MongoDB's dialect (PCRE2): ``gateway.pcre`` checks it as PCRE2
compiles it, so what MongoDB refuses is a 400 here, naming the reason and the offset,
and what it accepts is sent unchanged as a BSON regular expression with the ``i``
option (conditions match case-insensitively). There is no refusal by shape: the
embedded engine matches in linear time (RE2) and MongoDB stops a query at
``maxTimeMS``, so nested quantifiers such as ``(a+)+`` are fine.
"""

from __future__ import annotations

from bson import Regex

from gateway.display import json_text
from gateway.errors import InvalidQuery, LimitExceeded
from gateway.pcre import PatternError, literal, translate

OPTIONS = "i"


def user_regex(key: str, pattern: str, max_length: int) -> Regex[str]:
    """A client's regular expression for the condition on ``key``.

    Raises ``LimitExceeded`` over ``max_length`` characters, ``InvalidQuery`` for a
    pattern PCRE2 would refuse."""
    if len(pattern) > max_length:
        raise LimitExceeded(
            f"condition on {json_text(key)}: regular expression is {len(pattern)} characters long; "
            f"the limit max_regex_length is {max_length}."
        )
    try:
        translate(pattern, OPTIONS)
    except PatternError as exc:
        raise InvalidQuery(
            f"condition on {json_text(key)}: invalid regular expression {json_text(pattern)}: {exc}."
        ) from None
    return Regex(pattern, OPTIONS)


def literal_regex(text: str) -> Regex[str]:
    """A case-insensitive regular expression matching ``text`` anywhere (``contain``)."""
    return Regex(literal(text), OPTIONS)
