"""Report tables as CSV downloads that spreadsheets open correctly.

UTF-8 with a byte-order mark (Excel then reads Chinese text right), CRLF
line ends, and text cells that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are
prefixed with ``'`` (CSV injection). Numbers are written as numbers.
"""
from __future__ import annotations

import csv
import io
import re

from flask import Response

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str | int | float:
    """``value`` as a CSV cell: None empty, numbers as they are, text guarded."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def as_csv(headers: list[str], rows: list[list]) -> str:
    """``headers`` and ``rows`` as CSV text (with the BOM, see the module doc)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in headers])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def download(name: str, headers: list[str], rows: list[list]) -> Response:
    """A ``text/csv; charset=utf-8`` attachment named ``name`` (a-z, 0-9, ``_-.``)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100] or "report.csv"
    return Response(as_csv(headers, rows).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"',
                             "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store"})
