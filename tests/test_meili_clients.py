"""The Meilisearch-compatible API driven by the real ``meilisearch`` JS client from npm, in Node,
against the app served by waitress over the demo articles: what a theme or a script written
for Meilisearch sees. Three client versions: the one instant-meilisearch pins, the newest, and
the 0.30 that docs-searchbar.js bundles. The JavaScript only makes the calls (tests/js/
run_client.mjs); every assertion is here.

Needs Node 20+ and ``npm ci`` in tests/js (``.ci/run`` does both); skipped otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from browser.browserkit import serve
from helpers import ROOT

JS = ROOT / "tests" / "js"
CLIENTS = ("meilisearch", "meilisearch-latest", "meilisearch-0.30")
KEY = "team-kb-2024-s3cret"
CAT_NEWS = "hk-news/article_1811.md"                    # Traditional: tags 貓, 領養
CAT_BLOG = "blog/2019-06-16-adopting-a-ginger-cat.markdown"  # Simplified: tags 猫, 领养


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (apt-get install nodejs npm; .ci/run does)")
    major = int(subprocess.run([node, "-p", "process.versions.node.split('.')[0]"], capture_output=True,
                               text=True, check=True).stdout.strip())
    if major < 20:
        pytest.skip(f"the meilisearch JS client needs Node 20 or newer, found Node {major}")
    if not (JS / "node_modules" / "meilisearch").is_dir():
        pytest.skip("the npm packages are not installed: run `npm ci` in tests/js (.ci/run does)")
    return node


@pytest.fixture(scope="module")
def node() -> str:
    return _node()


@pytest.fixture(scope="module")
def host(demo_index, demo_settings):
    with serve(demo_settings) as url:
        yield url


@pytest.fixture(scope="module")
def private_host(demo_index, demo_settings):
    with serve(demo_settings.replace(api_key=KEY)) as url:
        yield url


def run(node: str, host: str, calls: list[dict], client: str = "meilisearch", key: str = "") -> list[dict]:
    proc = subprocess.run([node, "run_client.mjs", host, key, client], input=json.dumps(calls), cwd=JS,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def ok(result: dict):
    assert result["ok"], result["error"]
    return result["value"]


def search(q: str, **options) -> dict:
    return {"index": "articles", "method": "search", "args": [q, options]}


def ids(response: dict) -> list[str]:
    return [hit["id"] for hit in response["hits"]]


@pytest.mark.parametrize("client", CLIENTS)
def test_health_version_index_and_stats(node, host, client):
    health, version, index, indexes, stats = (ok(r) for r in run(node, host, [
        {"method": "health"}, {"method": "getVersion"}, {"method": "getIndex", "args": ["articles"]},
        {"method": "getIndexes"}, {"method": "getStats", "index": "articles"},
    ], client))
    assert health == {"status": "available"}
    assert version["pkgVersion"].startswith("1.") and version["commitSha"].startswith("sou-")
    assert index["uid"] == "articles" and index["primaryKey"] == "id"
    assert datetime.fromisoformat(index["createdAt"].replace("Z", "+00:00")).year >= 2024
    assert indexes["total"] == 1 and indexes["results"][0]["uid"] == "articles"
    assert stats["numberOfDocuments"] == 31 and stats["isIndexing"] is False
    assert stats["fieldDistribution"]["title"] == 31


@pytest.mark.parametrize("client", CLIENTS)
def test_a_simplified_query_highlights_traditional_text(node, host, client):
    res = ok(run(node, host, [search("猫", attributesToHighlight=["title", "tags"],
                                      attributesToRetrieve=["id", "title"])], client)[0])
    assert set(ids(res)) == {CAT_NEWS, CAT_BLOG}
    by_id = {hit["id"]: hit for hit in res["hits"]}
    assert "<em>貓</em>" in by_id[CAT_NEWS]["_formatted"]["title"]
    assert by_id[CAT_NEWS]["_formatted"]["tags"][0] == "<em>貓</em>"
    assert by_id[CAT_BLOG]["_formatted"]["title"] == "领养了一只橘<em>猫</em>"
    assert "tags" not in by_id[CAT_NEWS]                    # retrieved: id and title only
    assert res["query"] == "猫" and res["estimatedTotalHits"] == 2 and res["limit"] == 20


def test_custom_highlight_tags_are_inserted_as_given(node, host):
    res = ok(run(node, host, [search("記者會", attributesToHighlight=["title"], highlightPreTag="<mark class=hl>",
                                      highlightPostTag="</mark>", attributesToRetrieve=["id"], limit=1)])[0])
    assert res["hits"][0]["_formatted"]["title"].startswith("疫苗接種<mark class=hl>記者會</mark>")


def test_filters_as_a_string_and_as_nested_arrays(node, host):
    as_string, as_arrays, traditional, dates = (ok(r) for r in run(node, host, [
        search("", filter="(categories = tech OR categories = 生活) AND year >= 2020", attributesToRetrieve=["id"]),
        search("", filter=[["categories = tech", "categories = 生活"], "year >= 2020"], attributesToRetrieve=["id"]),
        search("", filter="tags = 领养 AND NOT categories IN [港聞]", attributesToRetrieve=["id"]),
        search("", filter="date 2020-08-01 TO 2020-10-31 AND author != 記者馮嘉慧", attributesToRetrieve=["id", "date"]),
    ]))
    assert sorted(ids(as_string)) == sorted(ids(as_arrays)) == [
        "blog/2020-03-08-home-pour-over-coffee.md", "blog/2022-11-02-python-3-11-new-features.md",
        "blog/2023-02-18-maintaining-a-small-open-source-library.md"]
    assert ids(traditional) == [CAT_BLOG]
    assert ids(dates) == ["hk-news/article_2041.md"]               # 1811 (October) is by 記者馮嘉慧


def test_facet_distribution_and_year_stats(node, host):
    res = ok(run(node, host, [search("", facets=["tags", "year", "categories"], limit=0)])[0])
    assert res["hits"] == [] and res["estimatedTotalHits"] == 30           # revisions collapsed
    # spellings that search folds together are one value, shown as the most common (a tie: the first)
    assert res["facetDistribution"]["tags"]["猫"] == 2 and "貓" not in res["facetDistribution"]["tags"]
    assert res["facetDistribution"]["categories"]["港聞"] == 6
    assert res["facetDistribution"]["year"]["2020"] == 5
    assert res["facetStats"] == {"year": {"min": 2018, "max": 2023}}
    narrowed = ok(run(node, host, [search("咖啡", facets=["tags"], attributesToRetrieve=["id"])])[0])
    assert narrowed["facetDistribution"]["tags"]["咖啡"] >= 1 and "貓" not in narrowed["facetDistribution"]["tags"]


def test_paging_by_offset_and_limit_or_by_page_and_hits_per_page(node, host):
    calls = [search("", sort=["date:asc"], attributesToRetrieve=["id"], offset=o, limit=4) for o in (0, 4, 8)]
    calls += [search("", sort=["date:asc"], attributesToRetrieve=["id"], page=p, hitsPerPage=4) for p in (1, 2, 3)]
    calls.append(search("", attributesToRetrieve=["id"], page=99, hitsPerPage=4))
    results = [ok(r) for r in run(node, host, calls)]
    by_offset = [i for r in results[:3] for i in ids(r)]
    by_page = [i for r in results[3:6] for i in ids(r)]
    assert by_offset == by_page and len(set(by_offset)) == 12
    assert results[1]["offset"] == 4 and results[1]["limit"] == 4 and results[1]["estimatedTotalHits"] == 30
    assert results[4]["page"] == 2 and results[4]["hitsPerPage"] == 4
    assert results[4]["totalHits"] == 30 and results[4]["totalPages"] == 8
    assert "offset" not in results[4] and "totalHits" not in results[1]
    assert results[6]["hits"] == [] and results[6]["totalPages"] == 8


def test_crop_around_the_matches_with_the_marker(node, host):
    res = ok(run(node, host, [search("救出", attributesToCrop=["body"], cropLength=6, cropMarker="[…]",
                                      attributesToHighlight=["body"], attributesToRetrieve=["id"])])[0])
    body = res["hits"][0]["_formatted"]["body"]
    assert body.startswith("[…]") and body.endswith("[…]") and "<em>救出</em>" in body
    assert len(body) < 60
    whole = ok(run(node, host, [search("救出", attributesToHighlight=["body"], attributesToRetrieve=["id", "body"])])[0])
    assert whole["hits"][0]["_formatted"]["body"].replace("<em>", "").replace("</em>", "") == whole["hits"][0]["body"]


def test_sort_by_date_both_ways(node, host):
    newest, oldest, bad = run(node, host, [
        search("", sort=["date:desc"], attributesToRetrieve=["date"], limit=30),
        search("", sort=["timestamp:asc"], attributesToRetrieve=["timestamp"], limit=30),
        search("", sort=["title:asc"]),
    ])
    dates = [hit["date"] for hit in ok(newest)["hits"] if hit["date"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 29
    stamps = [hit["timestamp"] for hit in ok(oldest)["hits"] if hit["timestamp"]]
    assert stamps == sorted(stamps)
    assert bad["error"]["code"] == "invalid_search_sort" and "date, timestamp" in bad["error"]["message"]


def test_ranking_score_and_matching_strategy(node, host):
    scored, last, every = (ok(r) for r in run(node, host, [
        search("咖啡 手冲", showRankingScore=True, attributesToRetrieve=["id"]),
        search("咖啡 手冲", attributesToRetrieve=["id"]),
        search("咖啡 手冲", matchingStrategy="all", attributesToRetrieve=["id"]),
    ]))
    scores = [hit["_rankingScore"] for hit in scored["hits"]]
    assert scores[0] == 1.0 and scores == sorted(scores, reverse=True) and 0 < scores[-1] < 1
    assert ids(every) == ["blog/2020-03-08-home-pour-over-coffee.md"] and len(ids(last)) > 1


@pytest.mark.parametrize("client", CLIENTS)
def test_get_one_document_by_its_path(node, host, client):
    doc, fields, missing = run(node, host, [
        {"index": "articles", "method": "getDocument", "args": [CAT_NEWS]},
        {"index": "articles", "method": "getDocument", "args": [CAT_NEWS, {"fields": ["id", "tags"]}]},
        {"index": "articles", "method": "getDocument", "args": ["hk-news/no such article.md"]},
    ], client)
    doc = ok(doc)
    assert doc["id"] == CAT_NEWS and doc["tags"] == ["貓", "領養", "動物權益", "寵物"] and doc["year"] == 2020
    assert doc["date"].startswith("2020-10-04") and "帶來三十多隻等待領養的貓" in doc["body"]
    assert ok(fields) == {"id": CAT_NEWS, "tags": ["貓", "領養", "動物權益", "寵物"]}
    assert missing["error"]["code"] == "document_not_found" and missing["error"]["status"] == 404


def test_multi_search_answers_each_query(node, host):
    res = ok(run(node, host, [{"method": "multiSearch", "args": [{"queries": [
        {"indexUid": "articles", "q": "iphone", "attributesToRetrieve": ["id"]},
        {"indexUid": "articles", "q": "", "filter": "tags = 猫", "facets": ["tags"], "hitsPerPage": 1},
    ]}]}])[0])
    first, second = res["results"]
    assert first["indexUid"] == "articles" and "blog/2021-10-10-iphone-13-two-weeks.md" in ids(first)
    assert second["totalHits"] == 2 and len(second["hits"]) == 1 and second["facetDistribution"]["tags"]["領養"] == 2
    wrong = run(node, host, [{"method": "multiSearch", "args": [{"queries": [{"indexUid": "movies", "q": "x"}]}]}])[0]
    assert wrong["error"]["code"] == "index_not_found"


def test_search_by_get(node, host):
    res = ok(run(node, host, [{"index": "articles", "method": "searchGet",
                               "args": ["python", {"filter": "year < 2020", "attributesToRetrieve": ["id"]}]}])[0])
    assert ids(res) == ["blog/2018-01-20-upgrade-to-python-3-6-3.md"]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_bad_filter_raises_the_clients_api_error(node, host, client):
    result = run(node, host, [search("", filter="tags = 猫 XOR year = 2020")], client)[0]
    assert not result["ok"]
    error = result["error"]
    assert error["name"] in ("MeilisearchApiError", "MeiliSearchApiError") and error["status"] == 400
    assert error["code"] == "invalid_search_filter" and error["type"] == "invalid_request"
    assert error["message"].endswith("10:25 tags = 猫 XOR year = 2020")


@pytest.mark.parametrize("client", CLIENTS)
def test_write_calls_say_sou_indexes_a_folder(node, host, client):
    results = run(node, host, [
        {"index": "articles", "method": "addDocuments", "args": [[{"id": "new.md", "title": "新文章"}]]},
        {"index": "articles", "method": "updateFilterableAttributes", "args": [["title"]]},
        {"index": "articles", "method": "deleteAllDocuments"},
        {"method": "createIndex", "args": ["movies"]},
    ], client)
    for result in results:
        assert not result["ok"]
        assert result["error"]["status"] == 405 and "sou reindex PATH" in result["error"]["message"]
    found = ok(run(node, host, [search("新文章", attributesToRetrieve=["id"])], client)[0])
    assert "new.md" not in ids(found)


def test_with_a_key_nothing_is_served_without_it(node, private_host):
    health, no_key = run(node, private_host, [{"method": "health"}, search("猫")])
    assert ok(health) == {"status": "available"}                          # public, as in Meilisearch
    assert no_key["error"]["status"] == 401 and no_key["error"]["code"] == "missing_authorization_header"
    wrong = run(node, private_host, [search("猫")], key="not-the-key")[0]
    assert wrong["error"]["status"] == 403 and wrong["error"]["code"] == "invalid_api_key"
    right = run(node, private_host, [search("猫", attributesToRetrieve=["id"])], key=KEY)[0]
    assert sorted(ids(ok(right))) == sorted([CAT_BLOG, CAT_NEWS])


def test_the_installed_client_versions_are_the_pinned_ones():
    """What the report names as tested is what package-lock.json installs."""
    _node()
    lock = json.loads((JS / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    assert lock["node_modules/meilisearch"]["version"] == "0.57.0"
    assert lock["node_modules/meilisearch-latest"]["version"] == "0.62.0"
    assert lock["node_modules/docs-searchbar.js/node_modules/meilisearch"]["version"].startswith("0.30.")
    for name in ("meilisearch", "meilisearch-latest", "@meilisearch/instant-meilisearch", "instantsearch.js"):
        installed = json.loads((JS / "node_modules" / name / "package.json").read_text(encoding="utf-8"))["version"]
        assert installed == lock[f"node_modules/{name}"]["version"]


def test_package_lock_is_committed_and_node_modules_ignored():
    assert (JS / "package-lock.json").is_file()
    ignored = subprocess.run(["git", "check-ignore", "-q", str(JS / "node_modules" / "x")], cwd=ROOT, check=False)
    assert ignored.returncode == 0 or not (Path(ROOT) / ".git").exists()
