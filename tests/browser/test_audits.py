"""Audits by tools nobody here wrote, on the real pages served by waitress and rendered by
Chromium: axe-core (accessibility: contrast, names, roles, landmarks) in the light and the dark
colour scheme, and html-validate (the HTML standard and its accessibility rules) on the HTML
the server sends. Both come from npm, pinned in tests/js/package-lock.json and installed by
`npm ci --prefix tests/js` (`make test` and .ci/run do it); without them these tests skip.

One exception is configured (tests/js/htmlvalidate.json): html-validate prefers a native
<select> to role="listbox", but the search box's suggestions are the WAI-ARIA combobox pattern,
whose popup is a listbox that a <select> cannot be (it filters as you type, and the input keeps
the focus).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from browserkit import serve  # noqa: E402

JS = Path(__file__).resolve().parents[1] / "js"
AXE = JS / "node_modules" / "axe-core" / "axe.min.js"
HTML_VALIDATE = JS / "node_modules" / "html-validate" / "bin" / "html-validate.mjs"
NODE = shutil.which("node")
IPHONE = "blog/2021-10-10-iphone-13-two-weeks.md"

PAGES = {
    "home": "/",
    "results": "/?q=%E7%8C%AB",
    "results with filters": "/?q=%E8%A8%98%E8%80%85&category=%E6%B8%AF%E8%81%9E&sort=newest",
    "no results": "/?q=zzzqqqxx",
    "article": f"/articles/{IPHONE}?q=iphone",
    "not found": "/articles/no/such/article.md",
    "bad parameter": "/?page=0",
}

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def base_url(demo_index, demo_settings):
    with serve(demo_settings) as url:
        yield url


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "targets": [n["target"] for n in v["nodes"]][:5],
             "summary": v["nodes"][0].get("failureSummary", "")[:300]} for v in result["violations"]]


@pytest.mark.skipif(not AXE.exists(), reason=f"axe-core is not installed: run `npm ci --prefix {JS}`")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_accessibility_violations(browser, base_url, scheme):
    # bypass_csp only lets the audit script in: the pages' own CSP forbids inline script
    context = browser.new_context(color_scheme=scheme, bypass_csp=True, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        found = {}
        for name, path in PAGES.items():
            page.goto(base_url + path)
            found[name] = axe_violations(page)
        # the search-as-you-type suggestions, open
        page.goto(base_url + "/")
        page.fill("#q", "ip")
        page.wait_for_selector("#suggestions li[role=option]")
        found["suggestions open"] = axe_violations(page)
    finally:
        context.close()
    assert {name: v for name, v in found.items() if v} == {}


@pytest.mark.skipif(not (HTML_VALIDATE.exists() and NODE), reason=f"html-validate is not installed: run `npm ci --prefix {JS}`")
def test_html_validate_finds_no_errors(base_url, tmp_path):
    files = []
    for name, path in PAGES.items():
        request = Request(base_url + path, headers={"Accept-Encoding": "identity"})
        try:
            body = urlopen(request, timeout=30).read()
        except OSError as exc:            # 400 and 404 pages arrive as HTTPError, with their body
            body = exc.read()             # type: ignore[attr-defined]
        target = tmp_path / (name.replace(" ", "-") + ".html")
        target.write_bytes(body)
        files.append(str(target))
    run = subprocess.run([NODE, str(HTML_VALIDATE), "--config", str(JS / "htmlvalidate.json"), "--formatter", "json",
                          *files], capture_output=True, text=True, timeout=120)
    report = json.loads(run.stdout or "[]")
    problems = {Path(r["filePath"]).stem: [f"{m['line']}:{m['column']} {m['ruleId']}: {m['message']}"
                                           for m in r["messages"]] for r in report if r["messages"]}
    assert problems == {} and run.returncode == 0, problems or run.stderr
