"""MongoDB's regular-expression dialect (PCRE2) as the gateway reads it: what PCRE2
matches, the embedded engine matches; what PCRE2 refuses, the compiler refuses; what
RE2 cannot emulate, the embedded engine refuses by name. Besides the listed cases,
every pattern listed and generated ones are compared with the PCRE2 library itself
(tests/pcre2_oracle.py, compiled as MongoDB compiles a $regex). Expected values from the PCRE2
pattern syntax (https://www.pcre.org/current/doc/html/pcre2pattern.html) with MongoDB's
options (https://www.mongodb.com/docs/manual/reference/operator/query/regex/)."""

from __future__ import annotations

import os
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import QueryRejected, UnsupportedByEngine
from gateway.pcre import PatternError, literal, translate
from gateway.store.regexes import compile_pcre
from tests import pcre2_oracle

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
    # Caseless matching leaves \p and \P alone ("\p{Lu} always matches only upper case letters").
    ("\\p{Lu}", "i", ["A"], ["a"]),
    ("(?i)\\P{Lu}", "", ["a"], ["A"]),
    ("[x\\p{Lu}]", "i", ["A", "x", "X"], ["a"]),
    ("a\\N{2}", "", ["abc"], ["a\nbc", "ab"]),  # \N with a quantifier, not \N{name}
    ("[\\g\\8]", "", ["g", "8"], ["a"]),  # \g and \8 in a class are the characters
    # The x option: white space and #-comments between items are ignored.
    ("(?x) a + b # a comment\n c", "", ["aabc"], ["a b c", "ab c"]),
    ("a b", "x", ["ab"], ["a b"]),
    ("(?x)[ ]a\\ b", "", [" a b"], ["ab"]),  # but not in a class, nor escaped
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
    ("[:alpha:]", "POSIX named classes are supported only within a class"),
    ("x[.a.]", "POSIX collating elements are not supported"),
    ("[\\d-z]", "invalid range in character class"),
    ("[[:digit:]-z]", "invalid range in character class"),
    ("(*", "does not follow a repeatable item"),
    ("(*xyz)", "(*alpha_assertion) not recognized"),
    ("(*NOPE)", "(*VERB) not recognized"),
    ("(a)\\2", "non-existent subpattern"),
    ("\\k<n>(?<m>a)", "non-existent subpattern"),
    ("(a)\\g{-2}", "non-existent subpattern"),
    ("a(?i)*", "does not follow a repeatable item"),
    ("(?x) a \\u", "does not support"),  # checked on after the x option
    ("(?x))", "unmatched closing parenthesis"),
]


@pytest.mark.parametrize(("pattern", "reason"), REFUSED)
def test_what_pcre_refuses_is_refused(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=re.escape(reason)):
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
    ("(?xx)[a b]", "xx option"),
    ("\\p{Xan}", "PCRE2's own"),
    ("(?i)[^a\\p{Lu}]", "negated caseless character class"),
    ("[^\\p{Lu}[:^digit:]]", "negated POSIX class beside a Unicode property"),
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


def test_a_multiline_caret_is_refused_only_where_the_dialects_differ() -> None:
    """PCRE2 never matches '^' (m) after a newline that ends the subject; RE2 does. A
    match that stops short of the end, or none at all, is the same in both."""
    assert compile_pcre("^a", "m")("a\n") is True
    assert compile_pcre("^b", "m")("a\n") is False
    with pytest.raises(UnsupportedByEngine, match="ends with a newline"):
        compile_pcre("^$", "m")("a\n")
    assert compile_pcre("^$", "m")("a\n\nb") is True


def test_nested_quantifiers_match_in_linear_time() -> None:
    # Exponential for a backtracking matcher (PCRE, Python's re); RE2 reads the text once.
    matches = compile_pcre("^(\\w+\\s?)+$", "i")
    started = time.perf_counter()
    assert not matches("word " * 2000 + "!")
    assert time.perf_counter() - started < 1.0


# -- against PCRE2 itself ---------------------------------------------------------------

TOKENS = [
    *"ab.*+?|^$-#, \n{}]",
    *["{2}", "{1,}", "{,2}", "{1,2}", "(", ")", "(?:", "[", "[^", "[]", "[^]", "[a-]", "[--a]", "[\\w-]", "[\\d-z]"],
    *["\\d", "\\w", "\\s", "\\h", "\\v", "\\b", "\\B", "\\A", "\\z", "\\Z", "\\n", "\\N", "\\Q", "\\E", "\\e", "\\c@"],
    *["\\x41", "\\x{100}", "\\o{101}", "\\0", "\\01", "\\8", "\\777", "\\u", "\\g1", "\\1", "\\k<n>", "\\]", "\\-"],
    *["\\p{L}", "\\P{Lu}", "\\pL", "\\p{^L}", "\\p{Greek}", "[[:digit:]]", "[[:^alpha:]]", "[:alpha:]", "[.a.]"],
    *["(?i)", "(?m)", "(?s)", "(?x)", "(?-i)", "(?i:", "(?#x)", "(?<n>", "(?P<n>", "(?|", "(?=", "(?>", "a*+"],
    *["(*", "(*F)", "(*xyz)", "é", "Ω", "ſ"],
]
SUBJECTS = ["", "a", "b", "ab", "aab", "A", "AB", "1", "a1", "é", "É", "a\nb", "\n", " ", "\t", "ā", "Ā", "abab"]
SUBJECTS += [
    "a-b",
    "]",
    "-",
    "ω",
    "Ω",
    "\x0b",
    "aa\n",
    "AÉ1_",
    "\u00a0",
    "\u2028",
    "#",
    "a b",
    "{",
    "a{2}",
    "\\",
    "ab\n",
]

requires_pcre2 = pytest.mark.skipif(
    pcre2_oracle.library() is None, reason="the PCRE2 library (libpcre2-8) is not installed here"
)


def _agrees_with_pcre2(pattern: str, options: str) -> None:
    """What PCRE2 refuses is refused; what it compiles is not refused as invalid, and
    either matches every subject as PCRE2 does or is refused by name (never a
    different answer)."""
    pcre2 = pcre2_oracle.compile(pattern, options)
    try:
        translation = translate(pattern, options)
    except PatternError as exc:
        assert pcre2.error is not None, f"PCRE2 compiles {pattern!r}; refused as {exc}"
        return
    if pcre2.error is not None:
        # Only what the scanner does not follow (verbs, conditionals, recursion) may stay unchecked.
        assert translation.unsupported is not None, f"PCRE2 refuses {pattern!r}: {pcre2.error}"
        return
    try:
        matches = compile_pcre(pattern, options)
    except UnsupportedByEngine:
        return
    for subject in SUBJECTS:
        try:
            ours = matches(subject)
        except UnsupportedByEngine:
            continue
        assert ours == pcre2.matches(subject), (pattern, options, subject)


@requires_pcre2
@pytest.mark.parametrize(
    "pattern", [p for p, *_ in MATCHES] + [p for p, _ in REFUSED if "\x00" not in p] + [p for p, _ in UNSUPPORTED]
)
def test_every_listed_pattern_agrees_with_pcre2(pattern: str) -> None:
    for options in ("", "i", "m", "s"):
        _agrees_with_pcre2(pattern, options)


@requires_pcre2
@settings(max_examples=1500, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(
    tokens=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=6),
    options=st.sampled_from(["", "i", "m", "s", "x", "ims"]),
)
def test_generated_patterns_agree_with_pcre2(tokens: list[str], options: str) -> None:
    _agrees_with_pcre2("".join(tokens), options)
