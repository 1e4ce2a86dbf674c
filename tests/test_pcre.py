"""MongoDB's regular-expression dialect (PCRE2) as the gateway reads it: what PCRE2
matches, the embedded engine matches; what PCRE2 refuses, the compiler refuses; what
RE2 cannot emulate, the embedded engine refuses by name. Expected values from the PCRE2
pattern syntax (https://www.pcre.org/current/doc/html/pcre2pattern.html) with MongoDB's
options (https://www.mongodb.com/docs/manual/reference/operator/query/regex/)."""

from __future__ import annotations

import time

import pytest

from gateway.errors import QueryRejected, UnsupportedByEngine
from gateway.pcre import PatternError, literal, translate
from gateway.store.regexes import compile_pcre

# (pattern, options, strings it matches, strings it does not)
MATCHES = [
    ("^job-[[:digit:]]+$", "i", ["job-1", "JOB-123"], ["job-", "job-1a", "job-1\n\n"]),
    ("[[:^alpha:]]", "", ["1", " "], ["abc"]),
    ("[[:word:]]+$", "", ["a_1"], ["!!"]),
    ("a\\hb", "", ["a b", "a\tb", "a\u00a0b", "a\u3000b"], ["ab", "a\nb"]),
    ("a\\vb", "", ["a\nb", "a\x0bb", "a\u2028b"], ["a b"]),
    ("a\\Hb", "", ["axb"], ["a b"]),
    ("a\\sb", "", ["a\x0bb", "a\tb"], ["a\u00a0b"]),  # \s: ASCII space characters, VT included (no UCP)
    ("\\d+", "", ["42"], ["\u0663"]),  # \d: ASCII digits only without UCP
    ("abc$", "", ["abc", "abc\n"], ["abc\n\n", "abcd"]),  # $ also before a final newline
    ("abc\\Z", "", ["abc", "abc\n"], ["abc\nx"]),
    ("abc\\z", "", ["abc"], ["abc\n"]),
    ("^b$", "m", ["a\nb\nc"], ["abc"]),
    ("a.c", "", ["abc"], ["a\nc"]),
    ("a.c", "s", ["a\nc"], []),
    ("(?s)a.c", "", ["a\nc"], []),
    ("(?i)K", "", ["k", "\u212a"], ["x"]),
    ("ABC", "i", ["abc"], []),
    ("(?-i)ABC", "i", ["ABC"], ["abc"]),
    ("(?^)ABC", "i", ["ABC"], ["abc"]),
    ("\\Qa.b*\\E+", "", ["a.b**"], ["axb"]),
    ("\\x41\\x{263a}\\101\\o{102}", "", ["A\u263aAB"], []),
    ("\\e\\cA\\t", "", ["\x1b\x01\t"], []),
    ("(?<year>\\d{4})-(?P<m>\\d\\d)", "", ["2024-05"], ["24-05"]),
    ("(?|(a)|(b))c", "", ["bc"], ["cc"]),
    ("a(?#comment)b", "", ["ab"], ["a(?#comment)b"]),
    ("[]a]+", "", ["]a]"], ["b"]),
    ("[^]a]", "", ["b"], ["]"]),
    ("a{,3}", "", ["a{,3}"], ["aaa"]),  # not a quantifier in PCRE2 10.42
    ("a{2}b", "", ["aab"], ["ab"]),
    ("^(\\w+\\s?)+$", "", ["words and words"], ["words!"]),
    (literal("a.b*c (d)"), "i", ["xA.B*C (D)x"], ["aXb*c (d)"]),
]


@pytest.mark.parametrize(("pattern", "options", "yes", "no"), MATCHES)
def test_the_embedded_engine_matches_what_pcre_matches(
    pattern: str, options: str, yes: list[str], no: list[str]
) -> None:
    matches = compile_pcre(pattern, options)
    assert [s for s in yes if not matches(s)] == []
    assert [s for s in no if matches(s)] == []


REFUSED = [  # what PCRE2 refuses to compile (MongoDB: error 51091)
    ("(", "missing closing parenthesis"),
    (")", "unmatched closing parenthesis"),
    ("[a", "missing terminating ]"),
    ("*a", "does not follow a repeatable item"),
    ("a**", "does not follow a repeatable item"),
    ("^*", "does not follow a repeatable item"),
    ("a{3,2}", "out of order"),
    ("a{70000}", "number too big"),
    ("[z-a]", "range out of order"),
    ("[[:digits:]]", "unknown POSIX class"),
    ("\\u0041", "does not support"),
    ("\\i", "unrecognized character follows"),
    ("\\", "at end of pattern"),
    ("[\\B]", "invalid in character class"),
    ("(?<1a>x)", "must start with a non-digit"),
    ("(?<n>a)(?<n>b)", "same name"),
    ("(?z)", "unrecognized character after (?"),
    ("\\x{110000}", "too large"),
    ("a\x00b", "null byte"),
    ("(" * 251 + ")" * 251, "too deeply nested"),
]


@pytest.mark.parametrize(("pattern", "reason"), REFUSED)
def test_what_pcre_refuses_is_refused(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=reason.replace("(", "\\(").replace("*", "\\*")):
        translate(pattern)
    with pytest.raises(QueryRejected, match="invalid regular expression"):
        compile_pcre(pattern, "")


UNSUPPORTED = [  # valid PCRE2 with no RE2 equivalent
    ("(a)\\1", "backreference"),
    ("(?<n>a)\\k<n>", "backreference"),
    ("a(?=b)", "lookaround"),
    ("(?<!a)b", "lookaround"),
    ("(?>a+)b", "atomic group"),
    ("a++b", "possessive quantifier"),
    ("(a|(?R))", "recursion"),
    ("(?(1)a|b)", "conditional"),
    ("(*UCP)\\w", "backtracking verbs"),
    ("a\\Kb", "\\K"),
    ("\\R", "\\R"),
    ("(?x) a b", "x (extended) option"),
    ("a{1001}", "repetition count over 1000"),
    ("[\\S]", "inside a character class"),
    ("a$b", "followed by more pattern"),
    ("(a$)+", "inside a repeated group"),
]


@pytest.mark.parametrize(("pattern", "construct"), UNSUPPORTED)
def test_what_re2_cannot_emulate_is_refused_by_name(pattern: str, construct: str) -> None:
    translation = translate(pattern)
    assert translation.unsupported is not None and construct in translation.unsupported
    with pytest.raises(
        UnsupportedByEngine, match=construct.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    ):
        compile_pcre(pattern, "")


def test_the_x_option_is_refused_by_name() -> None:
    assert translate("a b", "x").unsupported == "the x (extended) option"


def test_nested_quantifiers_match_in_linear_time() -> None:
    # Exponential for a backtracking matcher (PCRE, Python's re); RE2 reads the text once.
    matches = compile_pcre("^(\\w+\\s?)+$", "i")
    started = time.perf_counter()
    assert not matches("word " * 2000 + "!")
    assert time.perf_counter() - started < 1.0
