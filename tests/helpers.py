"""Paths and small helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "articles"
QUIRKS = ROOT / "tests" / "data" / "quirks"
SHARED = Path(__file__).resolve().parents[2] / "shared"
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
