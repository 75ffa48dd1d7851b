"""The triage table's rows as HTML, written in Python rather than by the template engine.

A page shows 100 rows of 15 cells; the template engine spent most of the page's time resolving
and escaping those ~2,000 values one by one. This is the same markup, every value escaped as
Django escapes it (django.utils.html.escape is html.escape, without the lazy-string wrapper that
costs more than the escaping), built in one pass. The rest of the page stays in
templates/sharing/triage.html; tests compare the rows with what the template wrote.
"""

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language

from apps.sharing.triage import TriageRow

NO_READINGS_CELL = '<td colspan="7">no readings in this period</td>'


def rows_html(rows: list[TriageRow]) -> SafeString:
    page = _Page(now=timezone.now(), language=get_language())
    return mark_safe("".join(_row_html(row, page) for row in rows))


class _Page:
    """What a page's rows share, worked out once: the clock, the language, the few periods."""

    def __init__(self, *, now: datetime, language: str):
        self.now, self.language = now, language
        self._titles: dict[tuple, str] = {}

    def period_title(self, period) -> str:
        key = (period.first_day, period.end_day)
        if key not in self._titles:
            self._titles[key] = escape(period.label)
        return self._titles[key]


def _row_html(row: TriageRow, page: _Page) -> str:
    period = row.period
    cells = row.metric_cells
    metric_cells = "".join(f"<td>{escape(cell)}</td>" for cell in cells) if cells else NO_READINGS_CELL
    flags = "".join(f'<span class="flag">{escape(flag)}</span> ' for flag in row.flags)
    last = (
        f"{time_since(row.last_reading_at, now=page.now, language=page.language)} ago"
        if row.last_reading_at
        else "never"
    )
    return (
        f'<tr class="{"needs-attention" if row.flags else ""}" data-patient-id="{row.patient_id}">\n'
        f"    <td>{flags}</td>\n"
        f'    <td><a href="/patients/{row.patient_id}/overview/?days={period.days}&amp;end='
        f'{period.last_day.isoformat()}" title="{page.period_title(period)}">{escape(row.name)}</a></td>\n'
        f"    <td>{escape(last)}</td>\n"
        f"    <td>{escape(row.wear_cell)}</td>\n"
        f"    {metric_cells}\n"
        f"    <td>{escape(row.tir_change_cell)}</td>\n"
        "  </tr>\n"
    )


# Shorter than the shortest month: timesince then counts no months, and its text depends on the
# whole minutes elapsed alone.
MONTHLESS = timedelta(days=28)
_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


def time_since(moment: datetime, *, now: datetime, language: str | None = None) -> str:
    """What Django's timesince filter shows, from a cache of its texts by whole minutes for the
    last four weeks (a page's 100 timesince calls were a fifth of its time)."""
    elapsed = now - moment
    if elapsed >= MONTHLESS:
        return timesince(moment, now)
    return _minutes_text(max(elapsed // timedelta(minutes=1), 0), language or get_language())


@lru_cache(maxsize=8192)
def _minutes_text(minutes: int, language: str) -> str:
    return timesince(_EPOCH - timedelta(minutes=minutes), _EPOCH)
