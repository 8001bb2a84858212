"""Benchmark queries: a mixed workload written for the two test corpora.

Latency depends heavily on the query's shape (a one-character query matches thousands of posts,
a quoted phrase needs positions, a filter narrows the candidates), so a single "typical" query
says little. These queries cover the shapes people type, in proportions close to a news site's
search box. Every word was checked with grep to occur in its corpus, so most queries return hits
and the benchmark times real work rather than empty posting lists. They are deliberately not the
evaluation topics of ../shared/eval*/dev_topics.tsv, so tuning for speed cannot leak into the
relevance judgements.

Each entry: ``q`` (the query as typed), ``kind`` (its shape, for per-kind figures), ``corpus``
("corpus": Hong Kong news in Traditional Chinese; "corpus_zh": Simplified Chinese security and
tech news) and optional ``filters`` (e.g. ``{"category": ["眾聞"]}``; engines without filters,
such as the classic baseline, ignore them).
"""

from __future__ import annotations

from typing import Any

#: Query shapes, in the order tables show them.
KINDS = (
    "short",
    "long",
    "phrase",
    "category",
    "traditional",
    "simplified",
    "english",
    "mixed",
    "name",
)


def _q(q: str, kind: str, corpus: str = "corpus", **filters: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"q": q, "kind": kind, "corpus": corpus}
    if filters:
        entry["filters"] = filters
    return entry


QUERIES: list[dict[str, Any]] = [
    # --- corpus: Hong Kong news (Traditional Chinese, some English) ---
    _q("茶", "short"),
    _q("狗", "short"),
    _q("颱風", "short"),
    _q("疫苗", "short"),
    _q("法官", "short"),
    _q("林鄭月娥 施政報告 房屋", "long"),
    _q("立法會 選舉 取消資格", "long"),
    _q("新冠肺炎 確診 個案", "long"),
    _q("港珠澳大橋 通車", "long"),
    _q("醫管局 急症室", "long"),
    _q("特朗普 貿易戰 關稅", "long"),
    _q("香港 移民 台灣", "long"),
    _q("警方 催淚彈 旺角", "long"),
    _q('"光復香港 時代革命"', "phrase"),
    _q('"五十年不變"', "phrase"),
    _q('"行政長官選舉"', "phrase"),
    _q('"警方發射催淚彈"', "phrase"),
    _q('"香港電台"', "phrase"),
    _q('"rule of law"', "phrase"),
    _q("警察 暴力", "category", category=["眾說"]),
    _q("特首", "category", category=["眾觀"]),
    _q("選舉", "category", category=["眾聞"]),
    _q("democracy", "category", category=["tri-angles"]),
    _q("經濟 民生", "category", category=["眾說", "眾觀"]),
    _q("國安法", "traditional"),
    _q("區議會選舉", "traditional"),
    _q("機場 集會", "traditional"),
    _q("醫護 罷工", "traditional"),
    _q("雨傘運動", "traditional"),
    _q("民主派 初選", "traditional"),
    _q("国安法", "simplified"),
    _q("区议会 选举", "simplified"),
    _q("新闻自由", "simplified"),
    _q("医护 罢工", "simplified"),
    _q("游行 示威", "simplified"),
    _q("林郑月娥", "simplified"),
    _q("extradition bill", "english"),
    _q("press freedom", "english"),
    _q("Carrie Lam", "english"),
    _q("national security law", "english"),
    _q("Hong Kong protest police", "english"),
    _q("COVID-19 疫苗", "mixed"),
    _q("Facebook 專頁", "mixed"),
    _q("WhatsApp 群組", "mixed"),
    _q("TVB 節目", "mixed"),
    _q("G20 峰會", "mixed"),
    _q("黃之鋒", "name"),
    _q("戴耀廷", "name"),
    _q("梁天琦", "name"),
    _q("習近平", "name"),
    _q("何君堯", "name"),
    # --- corpus_zh: security and tech news (Simplified Chinese) ---
    _q("云", "short", "corpus_zh"),
    _q("勒索", "short", "corpus_zh"),
    _q("芯片", "short", "corpus_zh"),
    _q("黑客", "short", "corpus_zh"),
    _q("勒索软件 攻击 赎金", "long", "corpus_zh"),
    _q("供应链 攻击 开源", "long", "corpus_zh"),
    _q("大模型 安全 评估", "long", "corpus_zh"),
    _q("内网渗透 横向移动", "long", "corpus_zh"),
    _q('"供应链攻击"', "phrase", "corpus_zh"),
    _q('"远程代码执行"', "phrase", "corpus_zh"),
    _q('"个人信息保护法"', "phrase", "corpus_zh"),
    _q('"睡前消息"', "phrase", "corpus_zh"),
    _q("網絡安全", "traditional", "corpus_zh"),
    _q("勒索軟件 攻擊", "traditional", "corpus_zh"),
    _q("漏洞 修復", "traditional", "corpus_zh"),
    _q("ransomware", "english", "corpus_zh"),
    _q("privilege escalation", "english", "corpus_zh"),
    _q("Linux kernel", "english", "corpus_zh"),
    _q("CVE-2024 漏洞", "mixed", "corpus_zh"),
    _q("Log4j 漏洞", "mixed", "corpus_zh"),
    _q("Docker 容器", "mixed", "corpus_zh"),
    _q("CrowdStrike 蓝屏", "mixed", "corpus_zh"),
    _q("SQL注入", "mixed", "corpus_zh"),
    _q("黄仁勋 英伟达", "name", "corpus_zh"),
    _q("华为 鸿蒙", "name", "corpus_zh"),
    _q("OpenAI Sam Altman", "name", "corpus_zh"),
    _q("周鸿祎", "name", "corpus_zh"),
]


def queries_for(corpus: str) -> list[dict[str, Any]]:
    """The queries written for `corpus` ("corpus" or "corpus_zh")."""
    return [q for q in QUERIES if q["corpus"] == corpus]
