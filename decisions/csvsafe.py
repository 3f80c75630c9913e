"""CSV cells that a spreadsheet opens as text, never as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` as a formula (a tab or
carriage return in front is skipped first), so a campaign id, reviewer name or note typed as `=HYPERLINK(…)`
would run on the reader's machine. The usual defence, and the one used here, is a leading apostrophe: the
spreadsheet shows the text as written.

This module sits at the top of decisions/ because the History export (views), `export_proposals` (review)
and `override_report` (reports) all write CSV through it: one rule, one place.

Only text is touched. Numbers (a negative expected mean, a -0.25 edit ratio) are written as numbers, so a
spreadsheet still sums them.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a spreadsheet should read it: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]
