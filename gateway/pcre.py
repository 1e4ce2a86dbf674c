"""MongoDB's regular-expression dialect (PCRE2, UTF mode): check a pattern as PCRE2
compiles it, and translate it to RE2 where the two dialects agree.

MongoDB runs ``$regex`` with PCRE (https://www.mongodb.com/docs/manual/reference/operator/query/regex/,
"MongoDB uses Perl compatible regular expressions (i.e. "PCRE" ) version 8.42 with
UTF-8 support"; PCRE2 since 6.1). Both the compiler (to refuse what MongoDB refuses,
before any database sees it) and the embedded engine (to match what MongoDB matches)
read patterns through ``translate``:

- a pattern PCRE2 refuses raises ``PatternError`` (the reason and the offset, as
  PCRE2's own messages say it: missing ``)``, nothing to repeat, an unknown escape such
  as ``\\u`` or ``\\i``, a bad range, an unknown POSIX class, ...);
- a pattern PCRE2 accepts gives a ``Translation``: the RE2 pattern that matches the
  same strings (``[[:digit:]]``, ``\\h``, ``\\v``, ``\\s`` with VT, ``$`` before a final
  newline, ``\\Q..\\E``, ``\\e``, ``\\cX``, octal and ``\\o{}`` escapes, named groups,
  ``(?|``, ``(?^)``, inline flags ``i m s U n J``, the ``x`` option's white space and
  comments dropped, ``\\p``/``\\P`` kept from caseless folding as PCRE2 keeps them) or,
  for the constructs RE2 has no equivalent of (backreferences, lookaround, atomic
  groups, possessive quantifiers, recursion, conditionals, callouts, backtracking verbs,
  ``\\K \\G \\R \\X \\C``, ``xx``, PCRE2's own properties ``\\p{Xan}``..., repetition
  counts over RE2's 1000), the name of the construct in ``unsupported``. A multiline
  ``^`` is flagged (``caret_in_multiline``): PCRE2 never matches it after a newline that
  ends the subject, RE2 does.

Checked against the PCRE2 library itself (``tests/pcre2_oracle.py``, in
``tests/test_pcre.py``: the listed cases and generated patterns).

RE2 matches in time linear in the subject (https://github.com/google/re2/wiki/Syntax),
so a translated pattern cannot run away, however it nests its quantifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

_PARENS_NEST_LIMIT = 250  # PCRE2's default PARENS_NEST_LIMIT
_MAX_QUANTIFIER = 65535  # PCRE2: "number too big in {} quantifier"
_RE2_MAX_REPEAT = 1000
_NAME_MAX = 32
# ASCII digits only (str.isdigit() also takes other scripts' digits).
_DIGIT_CHARS = frozenset("0123456789")
_POSIX_CLASSES = frozenset(
    (
        "alnum",
        "alpha",
        "ascii",
        "blank",
        "cntrl",
        "digit",
        "graph",
        "lower",
        "print",
        "punct",
        "space",
        "upper",
        "word",
        "xdigit",
    )
)
# \s in PCRE2 (no UCP): HT, LF, VT, FF, CR, space (VT since PCRE 8.34); RE2's lacks VT.
_SPACE = r"\x{9}-\x{D}\x{20}"
_HSPACE = r"\x{9}\x{20}\x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}"
_VSPACE = r"\x{A}-\x{D}\x{85}\x{2028}\x{2029}"
_SIMPLE_ESCAPES = {"a": 0x07, "e": 0x1B, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09}
# White space the x option ignores (PCRE2 in UTF mode: Pattern_White_Space).
_PATTERN_WHITE_SPACE = frozenset("\t\n\x0b\x0c\r \x85\u200e\u200f\u2028\u2029")
_PCRE2_ONLY_PROPERTIES = frozenset({"Xan", "Xps", "Xsp", "Xwd", "Xuc"})
# (*VERB)s and start-of-pattern options, and (*alpha_assertion:...) names, of PCRE2 10.42.
_VERBS = frozenset(
    [
        "ACCEPT",
        "FAIL",
        "F",
        "COMMIT",
        "PRUNE",
        "SKIP",
        "THEN",
        "MARK",
        "UTF",
        "UCP",
        "NOTEMPTY",
        "NOTEMPTY_ATSTART",
        "NO_AUTO_POSSESS",
        "NO_DOTSTAR_ANCHOR",
        "NO_JIT",
        "NO_START_OPT",
        "LIMIT_MATCH",
        "LIMIT_HEAP",
        "LIMIT_DEPTH",
        "LIMIT_RECURSION",
        "CR",
        "LF",
        "CRLF",
        "ANYCRLF",
        "ANY",
        "NUL",
        "BSR_ANYCRLF",
        "BSR_UNICODE",
    ]
)
_ALPHA_ASSERTIONS = frozenset(
    [
        "pla",
        "plb",
        "nla",
        "nlb",
        "napla",
        "naplb",
        "positive_lookahead",
        "negative_lookahead",
        "positive_lookbehind",
        "negative_lookbehind",
        "non_atomic_positive_lookahead",
        "non_atomic_positive_lookbehind",
        "atomic",
        "sr",
        "asr",
        "script_run",
        "atomic_script_run",
    ]
)
_UNSUPPORTED_LETTERS = {"F", "L", "l", "U", "u"}  # PCRE2: "does not support \F, \L, \l, \N{name}, \U, or \u"
_KNOWN_LETTERS = set("abcdefghknoprstvwxzABCDEGHKNPQRSVWXZ")
_OPTION_LETTERS = set("imnsxJU")


class PatternError(ValueError):
    """PCRE2 refuses the pattern: ``reason`` at ``offset`` (characters)."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} at offset {offset}")
        self.reason = reason
        self.offset = offset


@dataclass(frozen=True)
class Translation:
    """The RE2 form of a PCRE pattern, or the construct that has none."""

    re2: str
    unsupported: str | None = None
    # A `^` in multiline mode: PCRE2 never matches it after a newline that ends the
    # subject, RE2 does; the engine refuses such a subject (see gateway.store.regexes).
    caret_in_multiline: bool = False


def literal(text: str) -> str:
    """A PCRE pattern matching ``text`` literally (ASCII punctuation escaped, control
    characters and the space as ``\\xhh``: two hex digits, the escape every regex
    dialect reads alike, and a NUL character so written can travel in BSON, whose
    patterns are C strings)."""
    out = []
    for ch in text:
        if ch.isascii() and not ch.isalnum():
            out.append(f"\\x{ord(ch):02X}" if not ch.isprintable() or ch == " " else "\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def translate(pattern: str, options: str = "") -> Translation:
    """Check ``pattern`` (with MongoDB ``$options`` letters) as PCRE2 would and give its
    RE2 form. Raises ``PatternError`` for what PCRE2 refuses."""
    return _Translator(pattern, options).run()


@dataclass
class _Frame:
    flags: set[str]
    names_ok: bool = True
    end_pending: bool = False  # a `$` ends the current branch: nothing may follow it
    group_end_pending: bool = False  # some branch of this group ended with `$`
    opened_at: int = 0


class _Stop(Exception):
    """A construct whose extent the scanner does not follow: stop checking there."""


class _Translator:
    def __init__(self, pattern: str, options: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []
        self.names: set[str] = set()
        self.captures = 0  # capture groups opened so far
        flags = {f for f in options if f in "imsx"}
        self.unsupported: str | None = None
        self.frames = [_Frame(flags=flags)]
        self.repeatable = False  # whether the last item may take a quantifier
        self.prefix = "".join(sorted(flags - {"x"}))
        self.class_properties: list[str] = []  # the \p items of the class being read
        self.caret_in_multiline = False
        self.references: list[tuple[int | str, int]] = []  # groups referred to (number or name), and where

    # -- driver ---------------------------------------------------------------

    def run(self) -> Translation:
        if "\x00" in self.p:
            raise PatternError("regular expression cannot contain an embedded null byte", self.p.index("\x00"))
        if any(0xD800 <= ord(c) <= 0xDFFF for c in self.p):
            raise PatternError("UTF-8 error: the pattern is not valid UTF-8", 0)
        try:
            while self.i < len(self.p):
                self.item()
        except _Stop:
            return Translation(re2="", unsupported=self.unsupported)
        if len(self.frames) > 1:
            raise PatternError("missing closing parenthesis", len(self.p))
        for group, at in self.references:
            if group not in self.names if isinstance(group, str) else group > self.captures:
                raise PatternError("reference to non-existent subpattern", at)
        if self.unsupported:
            return Translation(re2="", unsupported=self.unsupported)
        head = f"(?{self.prefix})" if self.prefix else ""
        return Translation(re2=head + "".join(self.out), caret_in_multiline=self.caret_in_multiline)

    def lacks(self, construct: str) -> None:
        """Record that RE2 has no equivalent of ``construct`` (the first one is named)."""
        self.unsupported = self.unsupported or construct

    def stop(self, construct: str) -> None:
        self.lacks(construct)
        raise _Stop()

    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    def emit(self, text: str, *, repeatable: bool) -> None:
        if self.frame.end_pending:
            self.lacks("'$' before a final newline followed by more pattern")
        self.out.append(text)
        self.repeatable = repeatable

    # -- items ----------------------------------------------------------------

    def item(self) -> None:
        ch = self.p[self.i]
        if "x" in self.frame.flags and (ch in _PATTERN_WHITE_SPACE or ch == "#"):
            # The x option: white space and #-comments (to the end of the line) between items are ignored.
            end = self.p.find("\n", self.i) if ch == "#" else self.i
            self.i = len(self.p) if end < 0 else end + 1
            return
        if ch == "\\":
            self.escape()
        elif ch == "[":
            self.char_class()
        elif ch == "(":
            self.open_group()
        elif ch == ")":
            self.close_group()
        elif ch == "|":
            self.i += 1
            self.frame.group_end_pending |= self.frame.end_pending
            self.frame.end_pending = False
            self.out.append("|")
            self.repeatable = False
        elif ch in "*+?":
            self.quantifier(ch, self.i + 1, ch)
        elif ch == "{" and self._brace_quantifier() is not None:
            start = self.i
            text, end = self._brace_quantifier()  # type: ignore[misc]
            self.quantifier(text, end, self.p[start:end])
        elif ch == "^":
            self.i += 1
            self.emit("^", repeatable=False)
            self.caret_in_multiline |= "m" in self.frame.flags
        elif ch == "$":
            self.i += 1
            self.dollar()
        elif ch == ".":
            self.i += 1
            self.emit(".", repeatable=True)
        else:
            self.i += 1
            self.emit(_char(ord(ch)), repeatable=True)

    def dollar(self) -> None:
        if "m" in self.frame.flags:
            self.emit("(?m:$)", repeatable=False)
            return
        # PCRE's `$` also matches before a newline that ends the subject; as the last
        # item of a branch that is the same as consuming an optional final newline.
        self.emit(r"(?:\n?\z)", repeatable=False)
        self.frame.end_pending = True

    def quantifier(self, text: str, end: int, shown: str) -> None:
        if not self.repeatable:
            raise PatternError("quantifier does not follow a repeatable item", self.i)
        self.i = end
        suffix = ""
        if self.i < len(self.p) and self.p[self.i] == "?":
            suffix, self.i = "?", self.i + 1
        elif self.i < len(self.p) and self.p[self.i] == "+":
            self.i += 1
            self.lacks(f"possessive quantifier {shown}+")
        self.out.append(text + suffix)
        self.repeatable = False

    def _brace_quantifier(self) -> tuple[str, int] | None:
        """``{n}``, ``{n,}``, ``{n,m}`` at the cursor (anything else is a literal ``{``)."""
        j = self.i + 1
        k = j
        while k < len(self.p) and self.p[k] in _DIGIT_CHARS:
            k += 1
        if k == j:
            return None
        low = int(self.p[j:k])
        high: int | None = low
        if k < len(self.p) and self.p[k] == ",":
            m = k + 1
            while m < len(self.p) and self.p[m] in _DIGIT_CHARS:
                m += 1
            high = int(self.p[k + 1 : m]) if m > k + 1 else None
            k = m
        if k >= len(self.p) or self.p[k] != "}":
            return None
        for number in (low, high):
            if number is not None and number > _MAX_QUANTIFIER:
                raise PatternError("number too big in {} quantifier", k)
        if high is not None and high < low:
            raise PatternError("numbers out of order in {} quantifier", k)
        if low > _RE2_MAX_REPEAT or (high or 0) > _RE2_MAX_REPEAT:
            self.lacks(f"repetition count over {_RE2_MAX_REPEAT}")
        text = f"{{{low}}}" if high == low else f"{{{low},}}" if high is None else f"{{{low},{high}}}"
        return text, k + 1

    # -- groups ---------------------------------------------------------------

    def open_group(self) -> None:
        start = self.i
        self.i += 1
        rest = self.p[self.i :]
        flags = set(self.frame.flags)
        if rest.startswith("*"):
            self._verb(start)
        if not rest.startswith("?"):
            self.captures += 1
            self._push(flags, start, "(?:")
            return
        self.i += 1
        c = self.p[self.i] if self.i < len(self.p) else ""
        if c == "#":
            end = self.p.find(")", self.i)
            if end < 0:
                raise PatternError("missing ) after (?# comment", len(self.p))
            self.i = end + 1
            return
        if c in (":", "|"):
            self.i += 1
            self._push(flags, start, "(?:")
            return
        if c == ">" or c in ("=", "!") or rest.startswith(("?<=", "?<!")):
            self.lacks("atomic group (?>...)" if c == ">" else "lookaround assertion")
            self.i += 2 if c == "<" else 1
            self._push(flags, start, "(?:")
            return
        if c == "(":
            self.stop("conditional group (?(...)...)")
        if c == "C":
            self.stop("callout (?C...)")
        if c in ("R", "&") or c in _DIGIT_CHARS or (c in "+-" and self.p[self.i + 1 : self.i + 2] in _DIGIT_CHARS):
            self.stop("recursion or subroutine call")
        if c == "P":
            nxt = self.p[self.i + 1 : self.i + 2]
            if nxt == "<":
                self.i += 2
                self._group_name(">")
                self._push(flags, start, "(?:")
                return
            if nxt in ("=", ">"):
                self.stop("backreference or subroutine call (?P=name) / (?P>name)")
            raise PatternError("unrecognized character after (?P", self.i + 1)
        if c in ("<", "'"):
            self.i += 1
            self._group_name(">" if c == "<" else "'")
            self._push(flags, start, "(?:")
            return
        self._options(flags, start)

    def _verb(self, start: int) -> None:
        """``(*...)``: a backtracking verb, a start-of-pattern option or an alpha
        assertion, checked by name as PCRE2 does, then not followed (RE2 has none)."""
        j = start + 2
        while j < len(self.p) and self.p[j].isascii() and (self.p[j].isalpha() or self.p[j] == "_"):
            j += 1
        name, after = self.p[start + 2 : j], self.p[j : j + 1]
        if not name and after != ":":
            raise PatternError("quantifier does not follow a repeatable item", start + 1)
        if name[:1].islower():
            if name not in _ALPHA_ASSERTIONS or after != ":":
                raise PatternError("(*alpha_assertion) not recognized", j)
        elif name and name.rstrip("_") not in _VERBS:
            raise PatternError("(*VERB) not recognized or malformed", j)
        self.stop("backtracking verbs, alpha assertions and (*...) options")

    def _group_name(self, close: str) -> None:
        j = self.i
        while j < len(self.p) and (self.p[j].isascii() and (self.p[j].isalnum() or self.p[j] == "_")):
            j += 1
        name = self.p[self.i : j]
        if j >= len(self.p) or self.p[j] != close:
            raise PatternError("syntax error in subpattern name (missing terminator?)", j)
        if not name:
            raise PatternError("subpattern name expected", j)
        if name[0] in _DIGIT_CHARS:
            raise PatternError("subpattern name must start with a non-digit", self.i)
        if len(name) > _NAME_MAX:
            raise PatternError(f"subpattern name is too long (maximum {_NAME_MAX} code units)", self.i)
        if name in self.names and "J" not in self.frame.flags:
            raise PatternError("two named subpatterns have the same name (PCRE2_DUPNAMES not set)", self.i)
        self.names.add(name)
        self.captures += 1
        self.i = j + 1

    def _options(self, flags: set[str], start: int) -> None:
        on = True
        set_on: set[str] = set()
        set_off: set[str] = set()
        if self.p[self.i : self.i + 1] == "^":
            set_off |= {"i", "m", "n", "s", "x"}
            self.i += 1
        while self.i < len(self.p) and self.p[self.i] not in ":)":
            letter = self.p[self.i]
            if letter == "-" and on:
                on = False
            elif letter in _OPTION_LETTERS:
                (set_on if on else set_off).add(letter)
                (set_off if on else set_on).discard(letter)
            else:
                raise PatternError("unrecognized character after (? or (?-", self.i)
            self.i += 1
        if self.i >= len(self.p):
            raise PatternError("missing closing parenthesis", len(self.p))
        new = (flags | set_on) - set_off
        if "xx" in self.p[start : self.i]:
            self.lacks("the xx option")
        spec = "".join(sorted(f for f in set_on if f in "imsU"))
        off = "".join(sorted(f for f in set_off if f in "imsU"))
        text = spec + (f"-{off}" if off else "")
        if self.p[self.i] == ")":
            self.i += 1
            self.frame.flags = new
            if text:
                self.emit(f"(?{text})", repeatable=False)
            self.repeatable = False  # an option setting takes no quantifier
            return
        self.i += 1
        self._push(new, start, f"(?{text}:" if text else "(?:")

    def _push(self, flags: set[str], start: int, text: str) -> None:
        if len(self.frames) > _PARENS_NEST_LIMIT:
            raise PatternError("parentheses are too deeply nested", start)
        self.emit(text, repeatable=False)
        self.frames.append(_Frame(flags=flags, opened_at=start))

    def close_group(self) -> None:
        if len(self.frames) == 1:
            raise PatternError("unmatched closing parenthesis", self.i)
        self.i += 1
        closed = self.frames.pop()
        ends = closed.end_pending or closed.group_end_pending
        self.emit(")", repeatable=True)
        if ends:
            self.frame.end_pending = True
            # A quantified group ending in `$` could be followed by more of itself.
            nxt = self.p[self.i : self.i + 1]
            if nxt in ("*", "+", "?") or (nxt == "{" and self._brace_quantifier() is not None):
                self.lacks("'$' before a final newline inside a repeated group")

    # -- escapes --------------------------------------------------------------

    def escape(self) -> None:
        start = self.i
        if self.i + 1 >= len(self.p):
            raise PatternError("\\ at end of pattern", self.i)
        c = self.p[self.i + 1]
        self.i += 2
        if c == "Q":
            end = self.p.find("\\E", self.i)
            text = self.p[self.i :] if end < 0 else self.p[self.i : end]
            self.i = len(self.p) if end < 0 else end + 2
            for ch in text:
                self.emit(_char(ord(ch)), repeatable=True)
            return
        if c == "E":
            return
        code = self._char_escape(c, start, in_class=False)
        if code is not None:
            self.emit(_char(code), repeatable=True)
            return
        simple = {
            "d": r"\d",
            "D": r"\D",
            "w": r"\w",
            "W": r"\W",
            "s": f"[{_SPACE}]",
            "S": f"[^{_SPACE}]",
            "h": f"[{_HSPACE}]",
            "H": f"[^{_HSPACE}]",
            "v": f"[{_VSPACE}]",
            "V": f"[^{_VSPACE}]",
            "N": r"[^\n]",
        }
        if c in simple:
            self.emit(simple[c], repeatable=True)
        elif c in "bB":
            self.emit("\\" + c, repeatable=False)
        elif c == "A":
            self.emit(r"\A", repeatable=False)
        elif c == "z":
            self.emit(r"\z", repeatable=False)
        elif c == "Z":
            self.emit(r"(?:\n?\z)", repeatable=False)
            self.frame.end_pending = True
        elif c in "pP":
            self.emit(self._uncased(self._property(c, start)), repeatable=True)
        elif c in _DIGIT_CHARS:
            self._digits(c)
        elif c in "gk":
            self._reference(c)
        elif c in "GKRXC":
            self.lacks(f"\\{c}")
            self.emit(".", repeatable=c in "RXC")
        else:
            raise AssertionError(c)  # every other letter was refused by _char_escape

    def _digits(self, c: str) -> None:
        """``\\`` and digits outside a class: a backreference when the number is below 10,
        starts with 8 or 9, or counts no more groups than were opened before it; else an
        octal character of up to three digits, the digits after it literal."""
        j = self.i
        while j < len(self.p) and self.p[j] in _DIGIT_CHARS:
            j += 1
        number = int(c + self.p[self.i : j])
        if number < 10 or c in "89" or number <= self.captures:
            self._reference(c)
            return
        octal = c
        while len(octal) < 3 and self.i < len(self.p) and self.p[self.i] in "01234567":
            octal += self.p[self.i]
            self.i += 1
        self.emit(_char(int(octal, 8)), repeatable=True)

    def _reference(self, c: str) -> None:
        """A backreference (``\\1``, ``\\g{..}``, ``\\k<..>``): consumed, and recorded as
        unsupported (RE2 has no backreferences)."""
        self.lacks("backreference")
        at = self.i - 2
        if c in _DIGIT_CHARS:
            begin = self.i - 1
            while self.i < len(self.p) and self.p[self.i] in _DIGIT_CHARS:
                self.i += 1
            self._refer(self.p[begin : self.i], at)
        else:
            closing = {"{": "}", "<": ">", "'": "'"}.get(self.p[self.i : self.i + 1])
            if closing is None:
                j = self.i + (1 if self.p[self.i : self.i + 1] in ("-", "+") else 0)
                while j < len(self.p) and self.p[j] in _DIGIT_CHARS:
                    j += 1
                if j == self.i:
                    raise PatternError("a numbered reference must not be zero", self.i)
                self._refer(self.p[self.i : j], at)
                self.i = j
            else:
                end = self.p.find(closing, self.i + 1)
                if end < 0:
                    raise PatternError("syntax error in subpattern name (missing terminator?)", self.i)
                self._refer(self.p[self.i + 1 : end], at)
                self.i = end + 1
        self.emit("", repeatable=True)

    def _refer(self, group: str, at: int) -> None:
        """Record a reference to ``group`` (a number, relative ``-n``/``+n``, or a name),
        checked once the whole pattern is read (a relative one at once)."""
        if group[:1] in ("-", "+") and group[1:].isdigit():
            target = self.captures + 1 - int(group[1:]) if group[0] == "-" else self.captures + int(group[1:])
            if target < 1:
                raise PatternError("reference to non-existent subpattern", at)
            self.references.append((target, at))
        elif group.isascii() and group.isdigit():
            self.references.append((int(group), at))
        else:
            self.references.append((group, at))

    def _char_escape(self, c: str, start: int, *, in_class: bool) -> int | None:
        """The code point of a character escape, or None if ``c`` starts something else."""
        if c in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[c]
        if in_class and c == "b":
            return 0x08
        if in_class and c in "89":
            return ord(c)  # not octal: the digit itself
        if in_class and c == "g":
            return ord("g")  # PCRE2 reads it so in a class
        if c == "0" or (in_class and c in "1234567"):
            j = self.i
            limit = self.i + 2  # up to three octal digits in all
            while j < len(self.p) and j < limit and self.p[j] in "01234567":
                j += 1
            value = int(c + self.p[self.i : j], 8)
            self.i = j
            return value
        if c == "o":
            if self.p[self.i : self.i + 1] != "{":
                raise PatternError("missing opening brace after \\o", self.i)
            end = self.p.find("}", self.i)
            digits = self.p[self.i + 1 : end] if end > 0 else ""
            if not digits or any(d not in "01234567" for d in digits):
                raise PatternError("non-octal character in \\o{} (closing brace missing?)", self.i)
            self.i = end + 1
            return _code_point(int(digits, 8), start)
        if c == "x":
            if self.p[self.i : self.i + 1] == "{":
                end = self.p.find("}", self.i)
                digits = self.p[self.i + 1 : end] if end > 0 else ""
                if not digits or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    raise PatternError("non-hex character in \\x{} (closing brace missing?)", self.i)
                self.i = end + 1
                return _code_point(int(digits, 16), start)
            j = self.i
            while j < len(self.p) and j < self.i + 2 and self.p[j] in "0123456789abcdefABCDEF":
                j += 1
            value = int(self.p[self.i : j], 16) if j > self.i else 0
            self.i = j
            return value
        if c == "c":
            if self.i >= len(self.p) or not (32 <= ord(self.p[self.i]) < 127):
                raise PatternError("\\c must be followed by a printable ASCII character", self.i)
            value = ord(self.p[self.i].upper()) ^ 0x40
            self.i += 1
            return value
        if c == "N" and self.p[self.i : self.i + 3] == "{U+":
            end = self.p.find("}", self.i)
            digits = self.p[self.i + 3 : end] if end > 0 else ""
            if not digits or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise PatternError("\\N{U+dddd} is supported only in Unicode (UTF) mode", self.i)
            self.i = end + 1
            return _code_point(int(digits, 16), start)
        if c == "N" and self.p[self.i : self.i + 1] == "{" and (in_class or self._brace_quantifier() is None):
            raise PatternError("PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u", start)
        if c in _UNSUPPORTED_LETTERS:
            raise PatternError("PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u", start)
        if c.isascii() and c.isalpha() and c not in _KNOWN_LETTERS:
            raise PatternError("unrecognized character follows \\", start + 1)
        if c.isascii() and c.isalnum():
            return None
        return ord(c)  # any other escaped character stands for itself

    def _property(self, c: str, start: int) -> str:
        if self.p[self.i : self.i + 1] == "{":
            end = self.p.find("}", self.i)
            if end < 0:
                raise PatternError("malformed \\P or \\p sequence", self.i)
            name = self.p[self.i + 1 : end]
            self.i = end + 1
        elif self.i < len(self.p):
            name = self.p[self.i]
            self.i += 1
        else:
            raise PatternError("malformed \\P or \\p sequence", self.i)
        negate = name.startswith("^")
        name = name[1:] if negate else name
        if not name or not all(ch.isascii() and (ch.isalnum() or ch in "_&") for ch in name):
            raise PatternError("unknown property name after \\P or \\p", start)
        if name in _PCRE2_ONLY_PROPERTIES:
            self.lacks(f"property \\p{{{name}}} (PCRE2's own)")
        if name == "L&":
            body = r"\p{Lu}\p{Ll}\p{Lt}"
            return f"[^{body}]" if negate != (c == "P") else f"[{body}]"
        letter = "P" if negate != (c == "P") else "p"
        return f"\\{letter}{{{name}}}"

    def _uncased(self, text: str) -> str:
        """``text`` (a property) kept from case folding: PCRE2's caseless matching does
        not apply to \\p and \\P ("\\p{Lu} always matches only upper case letters",
        pcre2pattern, "Unicode character properties"); RE2's would."""
        return f"(?-i:{text})" if "i" in self.frame.flags else text

    # -- character classes ----------------------------------------------------

    def char_class(self) -> None:
        start = self.i
        kind = self.p[self.i + 1 : self.i + 2]
        if kind in (":", ".", "=") and _posix_end(self.p, self.i + 1, kind) >= 0:
            if kind == ":":
                raise PatternError("POSIX named classes are supported only within a class", self.i)
            raise PatternError("POSIX collating elements are not supported", self.i)
        self.i += 1
        negate = False
        if self.p[self.i : self.i + 1] == "^":
            negate, self.i = True, self.i + 1
        items: list[str] = []
        self.class_properties = []
        first = True
        prev: int | None = None  # the last single character, a range may start from it
        after_set = False  # the last item was a set (\d, [:alpha:], \p{L}): no range may start from it
        while True:
            if self.i >= len(self.p):
                raise PatternError("missing terminating ] for character class", len(self.p))
            ch = self.p[self.i]
            if ch == "]" and not first:
                self.i += 1
                break
            first = False
            if ch == "[" and self.p[self.i + 1 : self.i + 2] in (":", ".", "="):
                posix = self._posix_class()
                items.append(posix)
                prev, after_set = None, posix != _char(ord("["))
                continue
            if ch == "-" and after_set and self.p[self.i + 1 : self.i + 2] not in ("]", ""):
                raise PatternError("invalid range in character class", self.i + 1)
            if ch == "-" and prev is not None and self.p[self.i + 1 : self.i + 2] not in ("]", ""):
                self.i += 1
                high = self._class_char(items, start)
                if high is None:
                    raise PatternError("invalid range in character class", self.i)
                if high < prev:
                    raise PatternError("range out of order in character class", self.i)
                items[-1] = f"{_char(prev)}-{_char(high)}"
                prev, after_set = None, False
                continue
            size = len(items)
            code = self._class_char(items, start)
            if code is not None:
                items.append(_char(code))
            prev, after_set = code, code is None and len(items) > size
        self._emit_class(items, negate)

    def _emit_class(self, items: list[str], negate: bool) -> None:
        properties = self.class_properties
        if properties and any(item.startswith("[:^") for item in items):
            # PCRE2 (no UCP) then reads the negated POSIX class for code points below 256 only.
            self.lacks("a negated POSIX class beside a Unicode property in one character class")
        if properties and "i" in self.frame.flags:
            # Folded characters beside unfolded properties (see _uncased): one class each.
            if negate:
                self.lacks("a Unicode property in a negated caseless character class")
            rest = [item for item in items if item not in properties]
            text = f"(?-i:[{''.join(properties)}])"
            self.emit(f"(?:[{''.join(rest)}]|{text})" if rest else text, repeatable=True)
            return
        self.emit(("[^" if negate else "[") + "".join(items) + "]" if items else _EMPTY[negate], repeatable=True)

    def _class_char(self, items: list[str], start: int) -> int | None:
        """One character of a class (its code point) or a set (appended to ``items``)."""
        ch = self.p[self.i]
        if ch != "\\":
            self.i += 1
            return ord(ch)
        if self.i + 1 >= len(self.p):
            raise PatternError("\\ at end of pattern", self.i)
        c = self.p[self.i + 1]
        at = self.i
        self.i += 2
        if c == "Q":
            end = self.p.find("\\E", self.i)
            text = self.p[self.i :] if end < 0 else self.p[self.i : end]
            self.i = len(self.p) if end < 0 else end + 2
            items.extend(_char(ord(t)) for t in text[:-1])
            return ord(text[-1]) if text else None
        if c == "E":
            return None
        code = self._char_escape(c, at, in_class=True)
        if code is not None:
            return code
        sets = {"d": r"\d", "D": r"\D", "w": r"\w", "W": r"\W", "s": _SPACE, "h": _HSPACE, "v": _VSPACE}
        if c in sets:
            items.append(sets[c])
            return None
        if c in "SHV":
            self.lacks(f"\\{c} inside a character class")
            return None
        if c in "pP":
            prop = self._property(c, at)
            if prop.startswith("["):
                self.lacks("\\p{L&} inside a character class")
            items.append(prop)
            self.class_properties.append(prop)
            return None
        raise PatternError("escape sequence is invalid in character class", at + 1)

    def _posix_class(self) -> str:
        kind = self.p[self.i + 1]
        end = _posix_end(self.p, self.i + 1, kind)
        if end < 0:
            # Not a POSIX class after all: a literal '['.
            self.i += 1
            return _char(ord("["))
        name = self.p[self.i + 2 : end]
        if kind != ":":
            raise PatternError("POSIX collating elements are not supported", self.i)
        negate = name.startswith("^")
        bare = name[1:] if negate else name
        if bare in ("<", ">"):
            self.lacks("[[:<:]] and [[:>:]] word boundaries")
            self.i = end + 2
            return ""

        if bare not in _POSIX_CLASSES:
            raise PatternError("unknown POSIX class name", self.i)
        self.i = end + 2
        return f"[:{name}:]"


_EMPTY = {False: r"[^\x00-\x{10FFFF}]", True: r"[\x00-\x{10FFFF}]"}


def _posix_end(pattern: str, at: int, kind: str) -> int:
    """Where the POSIX class opened by ``kind`` at ``at`` (``[:``, ``[.``, ``[=``) ends
    with ``kind]``, or -1 when it is no POSIX class (PCRE2's check_posix_syntax: an
    escaped ``]`` or ``\\`` is skipped, a ``]`` or ``[kind`` first means none)."""
    j = at + 1
    while j < len(pattern):
        ch, nxt = pattern[j], pattern[j + 1 : j + 2]
        if ch == "\\" and nxt in ("]", "\\"):
            j += 2
            continue
        if (ch == "[" and nxt == kind) or ch == "]":
            return -1
        if ch == kind and nxt == "]":
            return j
        j += 1
    return -1


def _char(code: int) -> str:
    ch = chr(code)
    if ch.isascii() and ch.isalnum():
        return ch
    if not ch.isascii() and ch.isprintable():
        return ch
    return f"\\x{{{code:X}}}"


def _code_point(value: int, offset: int) -> int:
    if value > 0x10FFFF:
        raise PatternError("character code point value in \\x{} or \\o{} is too large", offset)
    if 0xD800 <= value <= 0xDFFF:
        raise PatternError("disallowed Unicode code point (>= 0xd800 && <= 0xdfff)", offset)
    return value
