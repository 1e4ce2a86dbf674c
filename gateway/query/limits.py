"""The limits the compiler enforces on what a client may ask (contract section 8),
set from the settings (``gateway.settings``). Each refusal is ``LimitExceeded``
naming its limit; every list a client controls is bounded by one of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Named limits, each a count (bytes for ``max_stat_bytes``)."""

    max_page_size: int = 1000  # rows of a list page, and of a statistics page
    max_conditions: int = 50  # conditions of `filter`, of `filter_or`, of a group field's `conditions`
    max_regex_length: int = 1024  # characters of a regular expression
    max_stages: int = 30  # stages of a statistics `aggregate`
    max_sort_keys: int = 32  # keys of a sort (MongoDB sorts on at most 32 keys)
    # values of a list operator (`in`, `contain_in`, ...), of a shortcut list, of any list or object in a
    # condition value; node ids
    max_list_values: int = 1000
    max_value_depth: int = 32  # nesting of arrays and objects in a condition value (MongoDB's BSON: 100 levels)
    max_only_fields: int = 50  # paths of a list's `only`
    max_keyword_words: int = 20  # words of a `keyword`
    max_patterns: int = 50  # patterns a query matches: contain*/regex* values and keyword words
    max_group_keys: int = 20  # keys of a `group` stage
    max_group_fields: int = 20  # values a `group` row accumulates: one per field, one per pushed sub-field
    max_project_fields: int = 50  # fields of a `project` stage, and operands of one operation
    max_expression_depth: int = 10  # nesting of arithmetic operations in a `project`
    max_expression_size: int = 200  # operations and operands of a `project` stage's arithmetic, together
    max_stat_rows: int = 10000  # rows of a statistics answer without `page.limit`
    max_stat_bytes: int = 16 * 1024 * 1024  # size of a statistics answer, as JSON
