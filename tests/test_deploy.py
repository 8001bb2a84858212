"""sou behind a reverse proxy under a path prefix, and the README's Deploy section.

The unit tests send the forwarded headers straight to the app; the integration test reads the
nginx block and the systemd unit FROM README.md, starts a real nginx with that block in front
of sou under waitress (configured with the unit's settings), and follows every link of a
results page through nginx, so the docs cannot drift from what works.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest
from helpers import ROOT
from selectolax.lexbor import LexborHTMLParser

import web
from search import Settings
from search.errors import ConfigError

sys.path.insert(0, str(ROOT / "tests" / "browser"))
from browserkit import serve  # noqa: E402

README = ROOT / "README.md"
PROXIED = {"X-Forwarded-Prefix": "/search", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "sou.example.net"}


@pytest.fixture
def proxied_client(demo_index, demo_settings):
    def make(**settings):
        app = web.create_app(demo_settings.replace(**settings))
        return app.test_client()
    return make


def page_links(html: str) -> list[str]:
    """Every URL a page makes the browser load or follow, and the suggest URL sou.js reads."""
    tree = LexborHTMLParser(html)
    out = [n.attributes.get("href") for n in tree.css("a[href], link[href]")]
    out += [n.attributes.get("src") for n in tree.css("[src]")]
    out += [n.attributes.get("action") for n in tree.css("form[action]")]
    out += [n.attributes.get("data-suggest-url") for n in tree.css("[data-suggest-url]")]
    return [u for u in out if u and not u.startswith("#")]      # a fragment stays on the page


def test_trusted_forwarded_headers_put_the_prefix_on_every_link(proxied_client):
    client = proxied_client(proxy_headers="all")
    html = client.get("/?q=猫", headers=PROXIED).get_data(as_text=True)
    links = page_links(html)
    assert len(links) > 20
    ours = [u for u in links if not urlsplit(u).netloc]
    assert ours and all(u.startswith("/search/") for u in ours), [u for u in ours if not u.startswith("/search/")]
    opensearch = client.get("/opensearch.xml", headers=PROXIED).get_data(as_text=True)
    templates = re.findall(r'template="([^"]+)"', opensearch)
    assert len(templates) == 3 and all(t.startswith("https://sou.example.net/search/") for t in templates)
    hits = client.get("/api/search?q=猫", headers=PROXIED).get_json()["hits"]
    own = [h for h in hits if not h["id"].startswith("hk-news/")]     # those link to their front matter url
    assert own and all(h["url"].startswith("https://sou.example.net/search/articles/") for h in own)
    spec = client.get("/api/openapi.json", headers=PROXIED).get_json()
    assert spec["servers"] == [{"url": "https://sou.example.net/search"}]


def test_untrusted_forwarded_headers_change_nothing(proxied_client):
    client = proxied_client()                     # proxy_headers empty: trust none
    html = client.get("/?q=猫", headers=PROXIED).get_data(as_text=True)
    assert not any(u.startswith("/search") for u in page_links(html))
    hits = client.get("/api/search?q=猫", headers=PROXIED).get_json()["hits"]
    own = [h for h in hits if not h["id"].startswith("hk-news/")]
    assert own and all(h["url"].startswith("http://localhost/articles/") for h in own)


def test_only_the_named_headers_are_trusted(proxied_client):
    client = proxied_client(proxy_headers="x-forwarded-prefix")
    hits = client.get("/api/search?q=猫", headers=PROXIED).get_json()["hits"]
    own = [h for h in hits if not h["id"].startswith("hk-news/")]
    assert own and all(h["url"].startswith("http://localhost/search/articles/") for h in own)   # host not believed


def test_a_script_name_from_the_wsgi_server_needs_no_header(proxied_client):
    client = proxied_client()
    resp = client.get("/?q=猫", environ_overrides={"SCRIPT_NAME": "/search"})
    ours = [u for u in page_links(resp.get_data(as_text=True)) if not urlsplit(u).netloc]
    assert ours and all(u.startswith("/search/") for u in ours)


def test_unknown_proxy_header_is_a_config_error(demo_settings):
    with pytest.raises(ConfigError, match="proxy_headers"):
        web.create_app(demo_settings.replace(proxy_headers="x-forwarded-everything"))


def test_bad_site_url_is_a_config_error(demo_settings):
    with pytest.raises(ConfigError, match="site_url"):
        web.create_app(demo_settings.replace(site_url="javascript:alert(1)"))


def test_embed_js_can_be_loaded_by_other_origins(proxied_client):
    with proxied_client().get("/embed.js", headers={"Origin": "https://blog.example.org"}) as resp:
        body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    assert resp.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "data-sou-search" in body


# -- the README's nginx block and systemd unit, for real -----------------------------------------

def readme_block(lang: str, must_contain: str) -> str:
    blocks = re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)
    found = [b for b in blocks if must_contain in b]
    assert found, f"README.md has no ```{lang} block with {must_contain!r}"
    return found[0]


def unit_environment() -> dict[str, str]:
    unit = readme_block("ini", "ExecStart=")
    return dict(re.findall(r"^Environment=(SOU_\w+)=(.*)$", unit, re.M))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:   # noqa: S310 - our own nginx on 127.0.0.1
            return resp.status, resp.headers.get_content_type(), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


@pytest.fixture
def nginx_in_front(tmp_path, demo_index, demo_settings):
    """nginx with the README's location blocks in front of sou run with the unit's settings."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    env = unit_environment()
    assert env["SOU_HOST"] == "127.0.0.1"
    settings = Settings.load({}, cwd=tmp_path, environ={k: v for k, v in env.items() if k != "SOU_PORT"})
    settings = settings.replace(index_dir=demo_settings.index_dir, cache_dir=demo_settings.cache_dir)
    with serve(settings) as upstream:
        block = readme_block("nginx", "location /search/")
        assert f"http://127.0.0.1:{env['SOU_PORT']}/" in block
        block = block.replace(f"127.0.0.1:{env['SOU_PORT']}", urlsplit(upstream).netloc)
        port = free_port()
        for folder in ("logs", "tmp"):
            (tmp_path / folder).mkdir()
        (tmp_path / "nginx.conf").write_text(f"""
daemon off;
master_process on;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/tmp/body;
    proxy_temp_path {tmp_path}/tmp/proxy;
    fastcgi_temp_path {tmp_path}/tmp/fastcgi;
    uwsgi_temp_path {tmp_path}/tmp/uwsgi;
    scgi_temp_path {tmp_path}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
{block}
    }}
}}
""", encoding="utf-8")
        proc = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(100):
                if proc.poll() is not None:
                    pytest.fail("nginx did not start: " + proc.stderr.read().decode())
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stderr.close()


def test_the_readme_deploy_section_works_behind_real_nginx(nginx_in_front):
    front = nginx_in_front
    assert fetch(front + "/search")[0] == 200                 # redirected to /search/
    page_url = front + "/search/?q=" + quote("猫")
    status, kind, html = fetch(page_url)
    assert status == 200 and kind == "text/html"
    checked = 0
    for link in page_links(html):
        url = urljoin(page_url, link)
        if urlsplit(url).netloc != urlsplit(front).netloc:
            continue                                          # an article's page on its own site
        assert urlsplit(url).path.startswith("/search/"), link
        assert fetch(url)[0] == 200, link
        checked += 1
    assert checked > 20
    status, _, opensearch = fetch(front + "/search/opensearch.xml")
    templates = re.findall(r'template="([^"]+)"', opensearch.replace("&amp;", "&"))
    assert status == 200 and len(templates) == 3
    for template in templates:
        assert template.startswith(front + "/search/"), template
        assert fetch(template.replace("{searchTerms}", quote("猫")))[0] == 200
    status, _, body = fetch(front + "/search/api/search?q=" + quote("抖音電商"))
    hits = json.loads(body)["hits"]
    assert status == 200 and hits[0]["id"].startswith("36kr/")
    for hit in hits:
        if not hit["id"].startswith("hk-news/"):              # those link to their front matter url
            assert hit["url"].startswith(front + "/search/articles/")
            assert fetch(hit["url"])[0] == 200
    status, kind, script = fetch(front + "/search/embed.js")
    assert status == 200 and kind == "text/javascript" and "data-sou-search" in script
