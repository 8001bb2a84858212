"""Settings: declared once as data, so the CLI, the README and the tests read the same table.

Precedence: defaults < ``sou.toml`` in the working directory < ``SOU_*`` environment variables <
explicit overrides (CLI flags, or keyword arguments from Python).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    help: str
    type: type
    choices: tuple[str, ...] = ()


def _opt(default: Any, help: str, choices: tuple[str, ...] = ()) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class Settings:
    index_dir: str = _opt("index", "Folder that holds the Whoosh index.")
    articles_dir: str = _opt("", "Articles folder used when `sou reindex` gets no PATH (defaults to the folder the index was last built from).")
    timezone: str = _opt("UTC", "Time zone for dates written without one (IANA name, e.g. Asia/Hong_Kong).")
    drafts: bool = _opt(False, "Also index `_drafts` folders.")
    user_dict: str = _opt("", "A jieba user dictionary (one `word [freq] [tag]` per line). Changing it makes the next reindex a full one.")
    segmenter: str = _opt("auto", "Word segmenter: `auto` (rjieba when installed, else jieba_fast, else jieba), `rjieba`, `jieba_fast` or `jieba`. The index records which one built it.",
                          choices=("auto", "rjieba", "jieba_fast", "jieba"))
    cache_dir: str = _opt("", "Where sou keeps jieba's dictionary cache (default: ~/.cache/sou).")
    lock_timeout: float = _opt(10.0, "Seconds a reindex waits for another writer before giving up.")
    workers: int = _opt(2, "Processes that parse and segment articles during a full reindex (1 = in-process).")
    per_page: int = _opt(10, "Hits per page when the request does not say.")
    max_per_page: int = _opt(100, "Largest per_page a request may ask for.")
    max_results: int = _opt(1000, "Deepest result a request may page to (page * per_page).")
    max_query_length: int = _opt(500, "Longest query, in characters, the engine accepts.")
    concurrent_searches: int = _opt(2, "Searches one process runs at once; more wait their turn in arrival order (0 = no limit). Searching is CPU-bound: beyond 2 at once a process only shares its core more slowly.")
    posting_cache_mb: int = _opt(64, "Memory for decoded posting lists of frequent query words (least recently used dropped first); `sou serve` shares it out among its processes.")
    article_chars: int = _opt(100_000, "Characters of an article shown per page (and per `/api/articles` answer); longer ones are shown in parts.")
    health_paths: bool = _opt(False, "Show the index folder and the articles folder (absolute server paths) in `/api/health`.")
    snippets: int = _opt(2, "Snippets per hit.")
    snippet_chars: int = _opt(120, "Target length of one snippet, in characters.")
    facet_size: int = _opt(15, "Values shown per facet (tags, authors, categories).")
    recency_boost: float = _opt(0.0, "Extra weight for newer articles (0 = off; 0.2 is a gentle boost).")
    collapse: bool = _opt(True, "Collapse revisions of one article (same title + date, or same body) into one hit.")
    pinyin: bool = _opt(True, "Let Latin-letter pinyin (douyin, dou yin, dy) find Chinese words of the index.")
    regional: bool = _opt(True, "Let Taiwan / Hong Kong words and mainland words for the same thing find each other (晶片/芯片, 網路/网络).")
    synonyms_file: str = _opt("", "Solr-style synonyms file (`a, b, c` or `a => b`), read at query time.")
    synonyms: bool = _opt(True, "Apply the synonyms file.")
    variants: bool = _opt(True, "Fold variant characters (台/臺, 裏/裡/里, 着/著) besides Traditional/Simplified.")
    stopwords: str = _opt("default", "Stop words dropped from unquoted queries: `default`, `none`, or a path to a file with one word per line.")
    host: str = _opt("127.0.0.1", "Address `sou serve` binds.")
    port: int = _opt(5000, "Port `sou serve` listens on.")
    threads: int = _opt(8, "Worker threads of the WSGI server (in each process).")
    processes: int = _opt(0, "Server processes of `sou serve` sharing one address (0 = one per CPU core, fewer when memory is short).")
    cors_origins: str = _opt("", "Comma-separated origins allowed to call the JSON API and the Meilisearch-compatible API (empty = CORS off; `*` = any).")
    site_url: str = _opt("", "Address of the site the articles are published on (e.g. https://blog.example.org): hits link there. Empty: read from the site's `_config.yml` / `hugo.toml` when found.")
    permalink: str = _opt("", "Permalink pattern in the generator's own syntax (Hexo `:year/:month/:day/:title/`, Jekyll `pretty`, Hugo `/:section/:slug/`). Empty: from the site's config, else the generator's default.")
    generator: str = _opt("auto", "Which generator's rules build the links: `auto` (detect from the site config above the articles folder), `hexo`, `jekyll`, `hugo` or `none` (link to sou's own article pages).")
    proxy_headers: str = _opt("", "Forwarded headers to trust from a reverse proxy: a comma-separated list of `x-forwarded-for`, `x-forwarded-proto`, `x-forwarded-host`, `x-forwarded-port`, `x-forwarded-prefix`, or `all` (empty = trust none).")
    api_key: str = _opt("", "Key for a private collection: the page asks for it once (then keeps an HttpOnly cookie) and both APIs require `Authorization: Bearer KEY` (empty = public search).")
    meili_index: str = _opt("articles", "Index uid under which the Meilisearch-compatible API serves the articles.")

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, *, cwd: str | os.PathLike | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        """Gather settings in precedence order; unknown keys and bad values raise ConfigError."""
        values: dict[str, Any] = {}
        toml_path = Path(cwd or os.getcwd()) / "sou.toml"
        if toml_path.is_file():
            try:
                data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{toml_path}: {exc}") from None
            data = data.get("sou", data)
            for key, value in data.items():
                name = _check_name(key, str(toml_path))
                values[name] = _coerce(name, value, str(toml_path))
        env = os.environ if environ is None else environ
        for key, value in env.items():
            if key.startswith("SOU_"):
                name = key[4:].lower()
                if name in _BY_NAME:
                    values[name] = _coerce(name, value, key)
        for key, value in (overrides or {}).items():
            if value is not None:
                name = _check_name(key, "override")
                values[name] = _coerce(name, value, "override")
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: _coerce(k, v, "replace") for k, v in changes.items()})

    @property
    def jieba_cache_dir(self) -> Path:
        if self.cache_dir:
            return Path(self.cache_dir).expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "sou"


def _check_name(name: str, where: str) -> str:
    if name not in _BY_NAME:
        raise ConfigError(f"{where}: unknown setting {name!r} (known: {', '.join(_BY_NAME)})")
    return name


def _coerce(name: str, value: Any, where: str) -> Any:
    kind = _BY_NAME[name].type
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if kind is int and isinstance(value, bool):
            raise ValueError(f"not an integer: {value!r}")
        value = kind(value)
        choices = _BY_NAME[name].choices
        if choices and value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: setting {name}: {exc}") from None


OPTIONS: tuple[Option, ...] = tuple(
    Option(f.name, f.default, f.metadata["help"], {"str": str, "int": int, "float": float, "bool": bool}[str(f.type)],
           f.metadata["choices"])
    for f in fields(Settings)
)
_BY_NAME = {o.name: o for o in OPTIONS}
