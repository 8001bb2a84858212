"""Paths and small helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "articles"
QUIRKS = ROOT / "tests" / "data" / "quirks"
# The shared corpora and judged dev sets (not part of this repository): ../shared beside the
# checkout, or wherever SOU_SHARED_DIR points (a git worktree has no ../shared of its own).
SHARED = Path(os.environ.get("SOU_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
CORPORA = {"corpus": SHARED / "corpus" / "sample", "corpus_zh": SHARED / "corpus_zh" / "sample"}


def write_article(folder: Path, name: str, title: str, body: str, **meta: str) -> Path:
    """A small Markdown article with YAML front matter (values written as JSON strings, which
    YAML reads back unchanged)."""
    lines = ["---", f"title: {json.dumps(title, ensure_ascii=False)}"]
    lines += [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in meta.items()]
    lines += ["---", "", body, ""]
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


_WORDS = ("数据 搜索引擎 开源项目 服务器 用户 隐私 安全 网络 城市 交通 地铁 天气 台风 医院 学校 老师 学生 "
          "咖啡 茶 猫 狗 公园 行山 记者 报道 政府 经济 市场 价格 手机 电池 屏幕 软件 更新 版本 测试 "
          "python rust linux 5G COVID-19 3.6.3 iPhone").split()


def make_synthetic_articles(root: Path, n: int, paragraphs: int = 6, seed: int = 7) -> None:
    """Original synthetic articles (random word salad), big enough to keep a reindex busy."""
    rng = random.Random(seed)
    for i in range(n):
        body = "\n\n".join(
            "".join(rng.choice(_WORDS) + rng.choice(("", "", "，", "。", " ")) for _ in range(rng.randint(60, 120)))
            for _ in range(paragraphs))
        write_article(root / f"batch{i % 7}", f"synthetic-{i:04d}.md", f"合成文章 synthxq {i} {rng.choice(_WORDS)}",
                      body, date=f"20{10 + i % 14:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                      tags=rng.choice(_WORDS), categories="合成")
