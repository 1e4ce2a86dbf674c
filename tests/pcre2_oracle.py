"""The system's PCRE2 library (libpcre2-8, the matcher MongoDB embeds) through ctypes:
the oracle the dialect tests compare ``gateway.pcre`` with. Compiled as MongoDB compiles
a ``$regex``: UTF mode, no UCP, with the ``$options`` letters i, m, s, x."""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from functools import cache

_UTF, _CASELESS, _MULTILINE, _DOTALL, _EXTENDED = 0x00080000, 0x00000008, 0x00000400, 0x00000020, 0x00000080
_FLAGS = {"i": _CASELESS, "m": _MULTILINE, "s": _DOTALL, "x": _EXTENDED}
_NO_MATCH = -1


@cache
def library() -> ctypes.CDLL | None:
    """libpcre2-8, or None where it is not installed."""
    name = ctypes.util.find_library("pcre2-8") or "libpcre2-8.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.pcre2_compile_8.restype = ctypes.c_void_p
    lib.pcre2_compile_8.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.c_void_p,
    ]
    lib.pcre2_get_error_message_8.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
    lib.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.pcre2_match_8.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_size_t,
        ctypes.c_uint32,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.pcre2_code_free_8.argtypes = [ctypes.c_void_p]
    lib.pcre2_match_data_free_8.argtypes = [ctypes.c_void_p]
    return lib


@dataclass(frozen=True)
class Compiled:
    """PCRE2's answer to a pattern: ``error`` (its message) or a pattern to match with."""

    error: str | None
    code: int | None

    def matches(self, subject: str) -> bool:
        lib = library()
        assert lib is not None and self.code is not None
        data = lib.pcre2_match_data_create_from_pattern_8(self.code, None)
        try:
            raw = subject.encode("utf-8")
            found = lib.pcre2_match_8(self.code, raw, len(raw), 0, 0, data, None)
        finally:
            lib.pcre2_match_data_free_8(data)
        if found < _NO_MATCH:
            raise RuntimeError(f"PCRE2 match error {found}")
        return found >= 0


def compile(pattern: str, options: str = "") -> Compiled:
    """``pattern`` compiled by PCRE2 as MongoDB compiles it (the code is never freed:
    tests compile a few thousand patterns)."""
    lib = library()
    assert lib is not None
    flags = _UTF
    for letter in options:
        flags |= _FLAGS[letter]
    raw = pattern.encode("utf-8")
    error, offset = ctypes.c_int(), ctypes.c_size_t()
    code = lib.pcre2_compile_8(raw, len(raw), flags, ctypes.byref(error), ctypes.byref(offset), None)
    if not code:
        buffer = ctypes.create_string_buffer(256)
        lib.pcre2_get_error_message_8(error.value, buffer, len(buffer))
        return Compiled(buffer.value.decode(), None)
    return Compiled(None, code)
