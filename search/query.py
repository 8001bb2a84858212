"""User query -> Whoosh query, leniently: odd syntax becomes a warning, never an exception.

Syntax: plain words (Chinese without spaces is segmented), "exact phrase", -exclude, OR (or |),
parentheses, title: category: tag: author: fields, date:2021 and date:2021-03..2021-06.

Matching strategy (see engine.py for how the two queries are used):
* ``strict``: every clause must match. A clause matches its words in title/tags/body, or, when
  jieba may cut the query and the text differently, the exact characters in the n-gram field.
* ``relaxed``: any clause may match; used to top up a result list that strict left short.
Quoted phrases always match as exact character sequences (punctuation and spaces between
their parts ignored), whatever the segmentation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from whoosh import query as wq

from . import analysis
from .numbers import held_pairs
from .phrase import Adjacent
from .weights import ADJACENT_BOOST, AND_BONUS, FIELD_WEIGHTS, REGIONAL_WEIGHT

FIELDS = {"title", "category", "tag", "author", "date"}
FIELD_ALIASES = {"categories": "category", "cat": "category", "tags": "tag", "标签": "tag", "標籤": "tag",
                 "分类": "category", "分類": "category", "作者": "author", "标题": "title", "標題": "title",
                 "日期": "date"}
_QUOTES = {'"': '"', "“": "”", "”": "”", "「": "」", "『": "』", "＂": "＂", "„": "“"}

DEFAULT_STOPWORDS = frozenset(
    "的 了 和 与 與 及 或 是 在 也 就 都 而 着 著 吧 吗 嗎 呢 啊 之 其 把 被 让 讓 给 給 对 對 从 從 向 为 為 以 于 於 "
    "a an the of and or to in on for is are was were be by with at as from that this it its".split()
)


# -- syntax tree ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Words:
    text: str
    field: str | None = None      # None = all text fields; "title"; "category"/"tag"/"author" keywords


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class AnyOf:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class DateRange:
    start: datetime | None
    end: datetime | None          # exclusive
    text: str


Node = Words | Phrase | Not | AnyOf | AllOf | DateRange


@dataclass
class ParsedQuery:
    node: Node | None
    warnings: list[str] = field(default_factory=list)
    dates: list[DateRange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.node is None


# -- lexer + parser ---------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<lparen>[(（])"
    r"|(?P<rparen>[)）])"
    r"|(?P<quote>[\"“”「」『』＂„])"
    r"|(?P<word>[^\s()（）\"“”「」『』＂„]+)"
)


@dataclass
class _Tok:
    kind: str          # lparen rparen or not word phrase field
    text: str
    field: str | None = None
    quoted: bool = False


def _lex(text: str, warnings: list[str]) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    pending_not = False
    not_word = "-"             # what the user typed for the pending negation: '-' or NOT
    pending_field: str | None = None
    while i < len(text):
        m = _TOKEN_RE.match(text, i)
        if m is None:          # cannot happen with the patterns above, but never loop forever
            i += 1
            continue
        kind = m.lastgroup
        i = m.end()
        if kind == "ws":
            if pending_field:
                warnings.append(f"`{pending_field}:` has no value; ignored")
                pending_field = None
            if pending_not:
                warnings.append(f"a lone '{not_word}' was ignored")
                pending_not = False
            continue
        if kind == "quote":
            close = _QUOTES.get(m.group(), '"')
            end = -1
            for j in range(i, len(text)):
                if text[j] == close or (close in "”\"" and text[j] in "\"”"):
                    end = j
                    break
            if end == -1:
                phrase = text[i:]
                i = len(text)
                if phrase.strip():
                    warnings.append(f"missing closing quote: searched “{phrase.strip()}” as a phrase")
            else:
                phrase = text[i:end]
                i = end + 1
            if phrase.strip():
                tok = _Tok("phrase", phrase.strip(), pending_field, True)
                out.extend(_with_not(tok, pending_not, not_word))
            elif pending_field:
                warnings.append(f"`{pending_field}:` has no value; ignored")
            else:   # `""` or a lone quote used to vanish without a word
                warnings.append("an empty or lone quote was ignored")
            pending_not, pending_field = False, None
            continue
        if kind in ("lparen", "rparen"):
            if pending_field:
                warnings.append(f"`{pending_field}:` has no value; ignored")
                pending_field = None
            if kind == "lparen" and pending_not:
                out.append(_Tok("not", not_word))
                pending_not = False
            out.append(_Tok(kind, m.group()))
            continue
        word = m.group()
        if word in ("OR", "|", "||"):
            out.append(_Tok("or", word))
            continue
        if word in ("AND", "&&", "&", "+"):
            continue
        if word == "NOT":
            pending_not, not_word = True, "NOT"
            # NOT is always followed by a space, which used to cancel it as a "lone '-'".
            while i < len(text) and text[i].isspace():
                i += 1
            continue
        while word.startswith(("-", "－")) and len(word) > 1 and not pending_field:
            pending_not, not_word = not pending_not, "-"
            word = word[1:]
        if word in ("-", "－"):
            # `-"a phrase"` and `-(a OR b)`: the '-' lexes alone, but it negates what follows.
            nxt = _TOKEN_RE.match(text, i) if i < len(text) else None
            if nxt is not None and nxt.lastgroup in ("quote", "lparen") and not pending_field:
                pending_not, not_word = not pending_not, "-"
                continue
            warnings.append("a lone '-' was ignored")
            continue
        fm = re.match(r"^([A-Za-z\u4e00-\u9fff]+)[:：](.*)$", word)
        if fm and (fm.group(1).lower() in FIELDS or fm.group(1) in FIELD_ALIASES) and pending_field is None:
            name = fm.group(1).lower()
            name = FIELD_ALIASES.get(fm.group(1), FIELD_ALIASES.get(name, name))
            value = fm.group(2)
            if not value:
                pending_field = name
                continue
            out.extend(_with_not(_Tok("word", value, name), pending_not, not_word))
            pending_not = False
            continue
        out.extend(_with_not(_Tok("word", word, pending_field), pending_not, not_word))
        pending_not, pending_field = False, None
    if pending_field:
        warnings.append(f"`{pending_field}:` has no value; ignored")
    if pending_not:
        warnings.append(f"a lone '{not_word}' was ignored")
    return out


def _with_not(tok: _Tok, negate: bool, typed: str = "-") -> list[_Tok]:
    return [_Tok("not", typed), tok] if negate else [tok]


class _Parser:
    def __init__(self, toks: list[_Tok], warnings: list[str]) -> None:
        self.toks = toks
        self.i = 0
        self.warnings = warnings
        self.depth = 0
        self.flattened = 0       # '(' ignored for nesting too deeply; their ')' are skipped too

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node | None:
        node = self.or_expr()
        while self.peek() is not None:       # stray ')'
            self.i += 1
            self.warnings.append("an unmatched ')' was ignored")
            more = self.or_expr()
            node = _join_all([n for n in (node, more) if n is not None])
        return node

    def or_expr(self) -> Node | None:
        parts = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.i += 1
            parts.append(self.and_expr())
        kept = [p for p in parts if p is not None]
        if len(parts) > 1 and len(kept) < len(parts):
            self.warnings.append("OR needs something on both sides; the empty side was ignored")
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else AnyOf(tuple(kept))

    def and_expr(self) -> Node | None:
        parts: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind != "or":
            if tok.kind == "rparen":
                if not self.flattened:
                    break
                self.flattened -= 1
                self.i += 1
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        return _join_all(parts)

    def unary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "not":
            self.i += 1
            if self.peek() is None or self.peek().kind in ("or", "rparen"):
                self.warnings.append(f"a lone '{tok.text}' was ignored")
                return None
            inner = self.unary()
            return Not(inner) if inner is not None else None
        return self.primary()

    def primary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        self.i += 1
        if tok.kind == "lparen":
            if self.depth >= MAX_DEPTH:
                # Recursing on every '(' overflowed the stack (RecursionError) at ~250 levels.
                self.warnings.append("parentheses nest too deeply; inner ones were ignored")
                self.flattened += 1
                return None
            self.depth += 1
            node = self.or_expr()
            if (close := self.peek()) is not None and close.kind == "rparen":
                self.i += 1
            else:
                self.warnings.append("a missing ')' was assumed at the end")
            self.depth -= 1
            return node
        if tok.kind in ("word", "phrase") and tok.field not in ("date", "category", "tag", "author") \
                and not _searchable(tok.text):
            # `|||`, `!!!`, `😀`: no word to search; used to return every article without a warning.
            self.warnings.append(f"“{tok.text}” has no letters, digits or Chinese characters to search for; ignored")
            return None
        if tok.kind == "phrase":
            if tok.field == "date":
                return _date_node(tok.text, self.warnings)
            return Phrase(tok.text, tok.field)
        if tok.kind == "word":
            if tok.field == "date":
                return _date_node(tok.text, self.warnings)
            return Words(tok.text, tok.field)
        return None


MAX_DEPTH = 20


def _searchable(text: str) -> bool:
    return analysis.Analyzer.default().searchable(text)


def _join_all(parts: list[Node]) -> Node | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def parse(text: str) -> ParsedQuery:
    """Lenient parse; never raises."""
    warnings: list[str] = []
    text = text.replace("\x00", " ")
    toks = _lex(text, warnings)
    if toks and all(t.kind in ("or", "not", "lparen", "rparen") for t in toks):
        warnings.append("the query has only operators; nothing to search for")
        return ParsedQuery(None, warnings)
    node = _Parser(toks, warnings).parse()
    dates: list[DateRange] = []
    node = _pull_dates(node, dates)
    return ParsedQuery(node, _dedupe(warnings), dates)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _pull_dates(node: Node | None, dates: list[DateRange]) -> Node | None:
    """date: terms are filters, not scored clauses: lift them out of a top-level AND."""
    if isinstance(node, DateRange):
        dates.append(node)
        return None
    if isinstance(node, AllOf):
        rest = []
        for child in node.nodes:
            if isinstance(child, DateRange):
                dates.append(child)
            else:
                rest.append(child)
        return _join_all(rest)
    return node


_DATE_PART = r"(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?)?"


def _date_bounds(text: str) -> tuple[datetime, datetime] | None:
    m = re.fullmatch(_DATE_PART, text.strip())
    if not m:
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if day:
            start = datetime(year, int(month), int(day), tzinfo=UTC)
            return start, start + timedelta(days=1)
        if month:
            start = datetime(year, int(month), 1, tzinfo=UTC)
            end = datetime(year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)
            return start, end
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    except ValueError:
        return None


def parse_date_range(text: str) -> DateRange | None:
    """`2021`, `2021-03`, `2021-03-05`, `2021..2022`, `2021-03..`, `..2020-06`."""
    text = text.strip()
    if ".." in text:
        a, b = text.split("..", 1)
        start = _date_bounds(a) if a.strip() else None
        end = _date_bounds(b) if b.strip() else None
        if (a.strip() and start is None) or (b.strip() and end is None) or (start is None and end is None):
            return None
        return DateRange(start[0] if start else None, end[1] if end else None, text)
    bounds = _date_bounds(text)
    return DateRange(bounds[0], bounds[1], text) if bounds else None


def _date_node(text: str, warnings: list[str]) -> Node | None:
    rng = parse_date_range(text)
    if rng is None:
        warnings.append(f"`date:{text}` is not a date or range (try date:2021 or date:2021-03..2021-06); ignored")
    return rng


# -- to Whoosh --------------------------------------------------------------------------------

@dataclass
class Compiled:
    strict: wq.Query | None
    relaxed: wq.Query | None
    terms: dict[str, set[str]]          # field -> analysed terms, for highlighting
    phrases: list[str]                  # exact strings to highlight
    words: list[str]                    # the query's words, for suggestions/pinyin
    explain: dict
    notes: list[str] = field(default_factory=list)     # what else was searched (regional words)
    held: wq.Query | None = None        # what the strict matches that rank first also meet (numbers.py)
    clauses: list[tuple[wq.Query, wq.Query]] = field(default_factory=list)   # each clause, and in titles


class Compiler:
    """Turns the syntax tree into a strict and a relaxed Whoosh query."""

    def __init__(self, analyzer: analysis.Analyzer, stopwords: frozenset[str] = DEFAULT_STOPWORDS,
                 regional=None, idf: Callable[[str], float] | None = None) -> None:
        self.analyzer = analyzer              # the index's own analysis, as at index time
        self.stopwords = stopwords
        self.regional = regional              # regional.RegionalWords, or None
        self.idf = idf                        # a body word's inverse document frequency in the index
        self.notes: list[str] = []
        analyzer.load()                           # to spot words the segmenter does not know
        self.terms: dict[str, set[str]] = {"title": set(), "body": set()}
        self.phrases: list[str] = []
        self.words: list[str] = []
        self.explain: dict = {"clauses": []}
        self.recording = True

    def compile(self, parsed: ParsedQuery) -> Compiled:
        node = parsed.node
        if node is None:
            return Compiled(None, None, self.terms, self.phrases, self.words, self.explain, self.notes)
        strict = self.node(node, strict=True)
        self.recording = False            # the relaxed pass sees the same words again
        relaxed = self.node(node, strict=False)
        held = None
        if isinstance(node, AllOf):
            held = held_pairs([n.text if isinstance(n, Words) and n.field in (None, "title") else None
                               for n in node.nodes], self.analyzer)
            if held is not None:
                self.explain["held"] = str(held)
        return Compiled(strict, relaxed, self.terms, self.phrases, self.words, self.explain, self.notes, held,
                        self.coverage_clauses(node))

    def coverage_clauses(self, node: Node) -> list[tuple[wq.Query, wq.Query]]:
        """Each clause of a query of plain words (what a long description is), as a query on
        every field and on titles alone, to count how many of them an article has (coverage.py);
        empty for any other query."""
        if not isinstance(node, AllOf):
            return []
        out = []
        for n in node.nodes:
            if isinstance(n, Not) or self._only_stopwords(n):
                continue
            if not isinstance(n, (Words, Phrase)) or n.field is not None:
                return []
            if isinstance(n, Words):
                anywhere = self.words_query(n, strict=True, record=False)
                title = self.words_query(Words(n.text, "title"), strict=True, record=False)
            else:
                anywhere = self.phrase_query(n, record=False)
                title = self.phrase_query(Phrase(n.text, "title"), record=False)
            if anywhere is not None and title is not None:
                out.append((anywhere, title))
        return out

    def node(self, node: Node, strict: bool) -> wq.Query | None:
        if isinstance(node, Words):
            return self.words_query(node, strict)
        if isinstance(node, Phrase):
            return self.phrase_query(node)
        if isinstance(node, Not):
            return None      # handled by the enclosing AllOf
        if isinstance(node, AnyOf):
            parts = [q for q in (self.node(n, strict) for n in node.nodes) if q is not None]
            return wq.Or(parts) if parts else None
        if isinstance(node, AllOf):
            # `category:` / `tag:` / `author:` restrict; only words are optional in the relaxed
            # pass (it used to let `category:國際 消防` top up with 港聞 articles about 消防).
            # A clause made only of stop words (的, the) is dropped when other clauses remain.
            content = [n for n in node.nodes if not self._only_stopwords(n)]
            nodes = content if any(not isinstance(n, Not) for n in content) else list(node.nodes)
            kept = [n for n in nodes if _is_restriction(n)]
            positives = [q for q in (self.node(n, strict) for n in nodes
                                     if not isinstance(n, Not) and not _is_restriction(n)) if q is not None]
            required = [q for q in (self.node(n, True) for n in kept) if q is not None]
            negatives = [q for q in (self.negative(n.node) for n in nodes if isinstance(n, Not)) if q is not None]
            if not positives:
                base: wq.Query = wq.Every()
            elif strict:
                base = wq.And(positives) if len(positives) > 1 else positives[0]
            else:
                base = wq.Or([wq.And(positives, boost=AND_BONUS), *positives]) if len(positives) > 1 else positives[0]
            if required:
                base = wq.And([*required, base]) if positives else (wq.And(required) if len(required) > 1 else required[0])
            if negatives:
                base = wq.AndNot(base, wq.Or(negatives) if len(negatives) > 1 else negatives[0])
            return base
        return None

    def _only_stopwords(self, node: Node) -> bool:
        if not isinstance(node, Words) or node.field is not None or not self.stopwords:
            return False
        toks = [t.text for t in self.analyzer.tokenize(node.text, "query")]
        return bool(toks) and all(t in self.stopwords for t in toks)

    def negative(self, node: Node) -> wq.Query | None:
        if isinstance(node, Words):
            return self.words_query(node, strict=True, record=False)
        if isinstance(node, Phrase):
            return self.phrase_query(node, record=False)
        return self.node(node, strict=True)

    # -- leaves --------------------------------------------------------------------------------
    def words_query(self, node: Words, strict: bool, record: bool = True) -> wq.Query | None:
        if node.field in ("category", "tag", "author"):
            return self.keyword_query(node.field, node.text)
        clause = self.words_clause(node, strict, record)
        alternative = self.regional.alternative(node.text) if self.regional is not None and clause else None
        if alternative is None:
            return clause
        # The other region's word (芯片 for 晶片) a little below the word typed, and never above
        # it for being rarer in this index: it is weighed as rare as the word typed at most.
        # The swapped words are recorded so the word actually found is highlighted.
        if record and self.recording:
            self.notes.append(alternative.note())
            self.explain["clauses"][-1]["regional"] = alternative.text
            self.phrases.extend(s.other for s in alternative.swaps)    # only the swapped words light up
        other = self.words_clause(Words(alternative.text, node.field), strict, record=False)
        if other is None:
            return clause
        weight = REGIONAL_WEIGHT
        if self.idf is not None:
            weight *= min(min(1.0, self.idf(s.word) / self.idf(s.other)) for s in alternative.swaps)
        return wq.Or([clause, scaled(other, weight)])

    def words_clause(self, node: Words, strict: bool, record: bool = True) -> wq.Query | None:
        record = record and self.recording
        toks = [t.text for t in self.analyzer.tokenize(node.text, "query")]
        if not toks:
            return None
        kept = [t for t in toks if t not in self.stopwords] or toks
        title_only = node.field == "title"
        if record:
            self.words.append(node.text)
            self.explain["clauses"].append({"text": node.text, "field": node.field or "all", "words": kept})
            if len(kept) > 1 and _has_cjk(node.text):
                self.phrases.append(node.text)     # highlight 香港人 whole, not 香港 + every 人
        # A one-character token inside a longer word (人 of 香港人) is not a query on its own:
        # only the word fields, never the n-gram field (which would match nearly everything).
        single = len(kept) == 1
        per_token = [self.token_query(t, title_only, record, grams_ok=single or len(t) > 1) for t in kept]
        if single:
            clause = per_token[0]
        else:
            # The words of one clause side by side (明日 大嶼 as 明日大嶼) earn a bonus.
            near = [Adjacent("title", kept, boost=ADJACENT_BOOST)]
            together = wq.AndMaybe(wq.And(per_token), wq.Or(near))
            # Relaxed, a clause may match by part of its words, but not by a lone character
            # cut out of it (人 of 白衣人 would match nearly every article).
            parts = [p for p, t in zip(per_token, kept, strict=True) if len(t) > 1 or not _has_cjk(t)] or per_token
            clause = together if strict else wq.Or([together, *parts])
        run = self.analyzer.fold(node.text)
        fragments = sum(1 for t in kept if len(t) == 1 and _has_cjk(t))
        unstable = any(self._unknown(t) and len(t) > 1 and _has_cjk(t) for t in kept) or fragments >= 2
        if _has_cjk(run) and len(kept) > 1 and unstable:
            # jieba may cut an unknown word (a name, a new term) differently in the text than in
            # the query: the exact characters match too. Known words segment stably and skip
            # this (a phrase of common characters is the most expensive query there is).
            grams = self.analyzer.query_ngrams(node.text)
            if len(grams) > 1:
                exact = [Adjacent("title_ngram", grams, boost=FIELD_WEIGHTS["title_ngram"])]
                if not title_only:
                    exact.append(Adjacent("ngram", grams, boost=FIELD_WEIGHTS["ngram"] * 2))
                clause = wq.Or([clause, *exact])
        return clause

    def token_query(self, token: str, title_only: bool, record: bool, grams_ok: bool = True) -> wq.Query:
        if record and (grams_ok or not _has_cjk(token)):
            self.terms["title"].add(token)
            if not title_only:
                self.terms["body"].add(token)
        fields = [("title", FIELD_WEIGHTS["title"])]
        if not title_only:
            fields += [("meta", FIELD_WEIGHTS["meta"]), ("body", FIELD_WEIGHTS["body"])]
        parts: list[wq.Query] = [wq.Term(f, token, boost=w) for f, w in fields]
        if _has_cjk(token) and grams_ok:
            grams = self.analyzer.query_ngrams(token)
            if len(grams) == 1:
                parts.append(wq.Term("title_ngram", grams[0], boost=FIELD_WEIGHTS["title_ngram"]))
                if not title_only:
                    parts.append(wq.Term("ngram", grams[0], boost=FIELD_WEIGHTS["ngram"]))
            elif self._unknown(token) or len(token) >= 4:
                parts.append(Adjacent("title_ngram", grams, boost=FIELD_WEIGHTS["title_ngram"]))
                if not title_only:
                    parts.append(Adjacent("ngram", grams, boost=FIELD_WEIGHTS["ngram"]))
        return wq.Or(parts)

    def phrase_query(self, node: Phrase, record: bool = True) -> wq.Query | None:
        record = record and self.recording
        if node.field in ("category", "tag", "author"):
            return self.keyword_query(node.field, node.text)
        grams = self.analyzer.query_ngrams(node.text)
        if not grams:
            return None
        if record:
            self.phrases.append(node.text)
            self.words.append(node.text)
            self.explain["clauses"].append({"text": node.text, "field": node.field or "all", "phrase": grams})
        one = len(grams) == 1
        parts = [wq.Term("title_ngram", grams[0], boost=FIELD_WEIGHTS["title"]) if one
                 else Adjacent("title_ngram", grams, boost=FIELD_WEIGHTS["title"])]
        if node.field != "title":
            parts.append(wq.Term("ngram", grams[0], boost=FIELD_WEIGHTS["body"]) if one
                         else Adjacent("ngram", grams, boost=FIELD_WEIGHTS["body"]))
            words = [t.text for t in self.analyzer.tokenize(node.text, "query")]
            if words:   # tags and categories hold whole words, not an n-gram field
                parts.append(wq.Term("meta", words[0], boost=FIELD_WEIGHTS["meta"]) if len(words) == 1
                             else Adjacent("meta", words, boost=FIELD_WEIGHTS["meta"]))
        return wq.Or(parts)

    def keyword_query(self, name: str, value: str) -> wq.Query:
        folded = self.analyzer.fold(value).strip()
        if self.recording:
            self.explain["clauses"].append({"text": value, "field": name})
        return keyword_query(name, folded)

    def _unknown(self, token: str) -> bool:
        return not self.analyzer.known(token)


def keyword_query(name: str, folded: str) -> wq.Query:
    """``category:``/``tag:``/``author:`` in a query and the category/tag/author filters of a
    request, by one rule: the folded value (國安法 = 国安法); an author also matches by a part
    of the name (林勵 finds 記者林勵, the way bylines are stored)."""
    field_name = {"category": "categories", "tag": "tags", "author": "author_key"}[name]
    part = _escape_wild(folded)
    if name == "author" and part:
        return wq.Or([wq.Term(field_name, folded), wq.Wildcard(field_name, f"*{part}*")])
    return wq.Term(field_name, folded)


def scaled(q: wq.Query, factor: float) -> wq.Query:
    """``q`` with every leaf's boost multiplied by ``factor``: a weight that Whoosh's own
    matchers apply exactly as scoring.py does (they drop the boost of a nested Or)."""
    if isinstance(q, (wq.Term, Adjacent)):
        return q.with_boost(q.boost * factor)
    return q.apply(lambda sub: scaled(sub, factor))


def _is_restriction(node: Node) -> bool:
    return isinstance(node, (Words, Phrase)) and node.field in ("category", "tag", "author")


def _escape_wild(text: str) -> str:
    return text.replace("*", "").replace("?", "")


def _has_cjk(text: str) -> bool:
    return analysis.has_han(text)


def load_stopwords(setting: str, fold=analysis.fold) -> frozenset[str]:
    """`default`, `none`, or a file of one word per line (folded with ``fold``)."""
    if not setting or setting == "default":
        return DEFAULT_STOPWORDS
    if setting == "none":
        return frozenset()
    try:
        with open(setting, encoding="utf-8-sig") as fh:
            return frozenset(fold(line.strip()) for line in fh if line.strip() and not line.startswith("#"))
    except OSError:
        return DEFAULT_STOPWORDS
