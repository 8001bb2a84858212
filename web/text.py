"""Small display helpers for the templates: paragraphs, languages, dates and safe links.

They work on the models' plain data and return plain data; escaping stays in Jinja and in
``Marked.to_html()``, so nothing here builds HTML.
"""

from __future__ import annotations

import bisect
import re
from datetime import datetime
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from search.models import Marked

_BLANK_LINES = re.compile(r"\n[ \t\u3000\r]*\n\s*")


def paragraphs(marked: Marked) -> list[Marked]:
    """Split a highlighted body at blank lines, keeping each highlight range on its paragraph,
    so the template can wrap paragraphs in ``<p>`` without cutting a ``<mark>`` in two."""
    text = marked.text
    bounds: list[tuple[int, int]] = []
    start = 0
    for sep in _BLANK_LINES.finditer(text):
        bounds.append((start, sep.start()))
        start = sep.end()
    bounds.append((start, len(text)))
    out: list[Marked] = []
    ranges = marked.ranges          # sorted and disjoint: each paragraph takes a slice of them
    ends = [b for _, b in ranges]
    for s, e in bounds:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s == e:
            continue
        first = bisect.bisect_right(ends, s)
        mine = []
        for a, b in ranges[first:]:
            if a >= e:
                break
            mine.append((max(a, s) - s, min(b, e) - s))
        out.append(Marked(text[s:e], tuple(mine)))
    return out


# Characters common in one script and absent from the other; enough to pick a font stack.
_HANT = set("國會說這個們來時對後過學還發經與點體開關問題機長實現報應當區話東車門間見記讀書寫電聞臺灣網頁產業為無從"
            "歲動員給氣壓邊進選舉認識將軍聽謝戰爭傳統義務專醫療歷擊數據價錢買賣雖須愛島團隊劃鐵萬億")
_HANS = set("国会说这个们来时对后过学还发经与点体开关问题机长实现报应当区话东车门间见记读书写电闻台湾网页产业为无从"
            "岁动员给气压边进选举认识将军听谢战争传统义务专医疗历击数据价钱买卖虽须爱岛团队划铁万亿")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def lang_of(text: str) -> str:
    """A BCP 47 tag for ``text`` (zh-Hant, zh-Hans, zh or en), so CSS can pick the right CJK
    font stack: the same code point is drawn differently in Traditional and Simplified fonts."""
    if not _CJK.search(text or ""):
        return "en"
    hant = sum(ch in _HANT for ch in text)
    hans = sum(ch in _HANS for ch in text)
    if hant > hans:
        return "zh-Hant"
    if hans > hant:
        return "zh-Hans"
    return "zh"


def local_date(value: datetime | None, timezone: str) -> str:
    """The date as the articles' readers saw it (Settings.timezone), not UTC."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    if value.tzinfo is not None:
        value = value.astimezone(zone)
    return value.strftime("%Y-%m-%d")


def safe_link(url: str | None) -> str | None:
    """The front matter's ``url`` is article data: link it only when it is plain http(s), so a
    ``javascript:`` URL in a post can never become a clickable link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


_INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def short_url(url: str, limit: int = 60) -> str:
    """A link's text for people: percent-escapes decoded (a Chinese path reads as Chinese, not
    as 14 lines of %E6%96%B0), the scheme dropped and the middle elided past ``limit``
    characters; the href keeps the full URL."""
    shown = _INVISIBLE.sub("", unquote(url.strip(), errors="replace"))
    shown = re.sub(r"^https?://", "", shown, flags=re.I)
    if len(shown) > limit:
        head = (limit - 1) * 2 // 3
        shown = shown[:head] + "…" + shown[len(shown) - (limit - 1 - head):]
    return shown
