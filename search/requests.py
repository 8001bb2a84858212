"""Whether a SearchRequest can be served: the one check that the engine, the web page, the JSON
API and the CLI share, so a bad parameter gets the same answer everywhere (QueryError: exit 2
in the CLI, 400 ``bad_parameter`` on the web) and the rule lives in one place.

Odd query *syntax* is never an error (it becomes a warning); a request *parameter* that cannot
be served is: a page before the first or past ``max_results``, an unknown sort or filter, a
year or date that is not one.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from .config import Settings
from .errors import QueryError
from .models import FILTER_FIELDS, MATCHING, SORTS, SearchRequest
from .query import DateRange, parse_date_range

MAX_FILTER_VALUES = 20       # per field; more is a crafted URL, not a person clicking facets
MAX_DATE_CHARS = 32
_YEAR = re.compile(r"[0-9]{4}")


def validate(request: SearchRequest, settings: Settings) -> SearchRequest:
    """The request with ``per_page`` filled in from the settings; QueryError (naming the
    parameter and the allowed values) when the request cannot be served."""
    per_page = request.per_page if request.per_page is not None else settings.per_page
    page = request.page
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= settings.max_per_page:
        raise QueryError(f"per_page must be between 1 and {settings.max_per_page}, not {per_page!r}")
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise QueryError(f"page must be 1 or more, not {page!r}")
    if page * per_page > settings.max_results:
        raise QueryError(f"page {page} with per_page {per_page} goes past result {settings.max_results}, "
                         "the deepest sou serves: refine the query or add filters")
    if request.sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {str(request.sort)[:40]!r}")
    offset = request.offset
    if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int) or offset < 0
                               or offset + per_page > settings.max_results):
        raise QueryError(f"offset must be 0 or more, and offset + per_page at most {settings.max_results}")
    if request.matching not in MATCHING:
        raise QueryError(f"matching must be one of {', '.join(MATCHING)}, not {str(request.matching)[:40]!r}")
    unknown = sorted(set(request.filters) - set(FILTER_FIELDS))
    if unknown:
        raise QueryError(f"unknown filter {', '.join(unknown)} (use {', '.join(FILTER_FIELDS)})")
    for name, values in request.filters.items():
        if len(values) > MAX_FILTER_VALUES:
            raise QueryError(f"at most {MAX_FILTER_VALUES} {name} values, not {len(values)}")
        for value in values:
            if not isinstance(value, str) or len(value) > settings.max_query_length:
                raise QueryError(f"a {name} value is at most {settings.max_query_length} characters long")
            if name == "year" and value and not _YEAR.fullmatch(value.strip()):
                raise QueryError(f"year must be four digits such as 2021, not {value[:40]!r}")
    for label, value in (("from", request.date_from), ("to", request.date_to)):
        if value and (len(value) > MAX_DATE_CHARS or parse_date_range(value) is None):
            raise QueryError(f"{label} must be a date such as 2021, 2021-03 or 2021-03-05, not {value[:40]!r}")
    return dataclasses.replace(request, per_page=per_page)


def year_range(value: str) -> DateRange:
    """The dates of a ``year`` filter value (four digits, checked by ``validate``). Every
    four-digit year is a valid filter, as the API promises: 0000 (no date has it) matches
    nothing and 9999 runs to the end of the calendar."""
    year = int(value.strip())
    if year == 0:
        nothing = datetime(1, 1, 1, tzinfo=UTC)
        return DateRange(nothing, nothing, value)
    return DateRange(datetime(year, 1, 1, tzinfo=UTC),
                     datetime(year + 1, 1, 1, tzinfo=UTC) if year < 9999 else None, value)
