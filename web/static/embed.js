/* sou 搜 search box: <script src="https://sou.example/embed.js" defer></script>
 * <div data-sou-search data-placeholder="Search" data-results="8"></div>; see README "Embed". */
(function () {
  "use strict";
  var me = document.currentScript;
  var root = me && me.src ? me.src.replace(/(static\/)?embed\.js([?#].*)?$/, "") : "";
  var CSS = ":host{display:block;position:relative;font:inherit;color:var(--sou-fg,CanvasText)}" +
    "input{box-sizing:border-box;width:100%;font:inherit;padding:.5em .7em;color:inherit;" +
    "background:var(--sou-bg,Canvas);border:1px solid var(--sou-border,GrayText);border-radius:var(--sou-radius,6px)}" +
    "ul{position:absolute;z-index:var(--sou-z,1000);left:0;right:0;margin:.25em 0 0;padding:.25em 0;list-style:none;" +
    "max-height:70vh;overflow:auto;background:var(--sou-bg,Canvas);border:1px solid var(--sou-border,GrayText);" +
    "border-radius:var(--sou-radius,6px);box-shadow:0 4px 16px rgb(0 0 0/.2)}" +
    "[hidden]{display:none}li{padding:.45em .7em;cursor:pointer}" +
    "li[aria-selected=true]{background:var(--sou-active,Highlight);color:var(--sou-active-fg,HighlightText)}" +
    "a{color:inherit;text-decoration:none;display:block}b{display:block;color:var(--sou-link,LinkText)}" +
    "li[aria-selected=true] b{color:inherit}small{display:block;opacity:.8;font-size:.85em;margin-top:.15em}" +
    "mark{background:var(--sou-mark,Mark);color:var(--sou-mark-fg,MarkText);border-radius:2px}" +
    ".st{font-size:.85em;margin:.25em 0 0;opacity:.8}.st:empty{display:none}.err{color:var(--sou-error,#c5221f);opacity:1}";

  function el(tag, attrs, parent) {
    var node = document.createElement(tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  // sou's *html is escaped text plus <mark>: split on the tags, every piece goes to textContent
  var ENT = { amp: "&", lt: "<", gt: ">", quot: '"', "#x27": "'" };
  function marked(parent, html) {
    String(html || "").split(/(<\/?mark>)/).reduce(function (inMark, part) {
      if (part === "<mark>") return true;
      if (part === "</mark>") return false;
      var text = part.replace(/&(amp|lt|gt|quot|#x27);/g, function (m, e) { return ENT[e]; });
      if (inMark) el("mark", {}, parent).textContent = text;
      else if (text) parent.appendChild(document.createTextNode(text));
      return inMark;
    }, false);
  }

  function safeUrl(url, base) {
    try { var u = new URL(url, base); return /^https?:$/.test(u.protocol) ? u.href : ""; } catch (e) { return ""; }
  }

  function mount(host) {
    if (host.shadowRoot || !host.attachShadow) return;
    var api = host.getAttribute("data-sou-api") || root;
    var max = Math.min(Math.max(parseInt(host.getAttribute("data-results"), 10) || 8, 1), 20);
    var shadow = host.attachShadow({ mode: "open" });
    if (window.CSSStyleSheet && "adoptedStyleSheets" in shadow) {
      var sheet = new CSSStyleSheet();           // adopted sheets are not blocked by the page's CSP
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      el("style", {}, shadow).textContent = CSS;
    }
    var input = el("input", {
      type: "search", role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": "sou-list", "aria-label": host.getAttribute("data-label") || "Search",
      placeholder: host.getAttribute("data-placeholder") || "Search…", autocomplete: "off", spellcheck: "false",
      enterkeyhint: "search"
    }, shadow);
    var list = el("ul", { id: "sou-list", role: "listbox", "aria-label": "Search results", hidden: "" }, shadow);
    var status = el("p", { class: "st", role: "status" }, shadow);
    var options = [], active = -1, timer = null, controller = null;

    function setActive(i) {
      if (active >= 0) options[active].setAttribute("aria-selected", "false");
      active = i;
      if (i < 0) { input.removeAttribute("aria-activedescendant"); return; }
      options[i].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[i].id);
      options[i].scrollIntoView({ block: "nearest" });
    }

    function open(show) {
      list.hidden = !show;
      input.setAttribute("aria-expanded", show ? "true" : "false");
      if (!show) setActive(-1);
    }

    function say(text, error) {
      status.textContent = text;
      status.className = "st" + (error ? " err" : "");
    }

    function render(data) {
      list.textContent = "";
      options = [];
      active = -1;
      (data.hits || []).forEach(function (hit, i) {
        var url = safeUrl(hit.url, api);
        var li = el("li", { id: "sou-opt-" + i, role: "option", "aria-selected": "false" }, list);
        var a = el("a", url ? { href: url, tabindex: "-1" } : {}, li);
        marked(el("b", {}, a), hit.title_html || hit.id);
        if (hit.snippets && hit.snippets[0]) marked(el("small", {}, a), hit.snippets[0].html);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });   // keep focus in the box
        li.addEventListener("mousemove", function () { if (active !== i) setActive(i); });
        options.push(li);
      });
      open(options.length > 0 && shadow.activeElement === input);
      say(data.total ? data.total + (data.total === 1 ? " result" : " results")
        : "No results for “" + data.query + "”");
    }

    function search() {
      var q = input.value.trim();
      if (controller) controller.abort();
      if (!q) { open(false); say(""); return; }
      controller = new AbortController();
      fetch(api + "api/search?per_page=" + max + "&q=" + encodeURIComponent(q),
        { mode: "cors", headers: { Accept: "application/json" }, signal: controller.signal })
        .then(function (r) {
          return r.json().then(function (d) {
            if (!r.ok) throw new Error(d && d.error ? d.error.message : "HTTP " + r.status);
            return d;
          });
        })
        .then(function (d) { if (input.value.trim() === q) render(d); })
        .catch(function (err) {
          if (err.name === "AbortError") return;
          open(false);
          say("Search is unavailable: " + (err instanceof TypeError
            ? "this page's origin may be missing from sou's cors_origins" : err.message), true);
        });
    }

    function go(i) {
      var href = options[i] && options[i].firstChild.getAttribute("href");
      if (href) window.location.assign(href);
    }

    function later(e) {
      if (e.isComposing) return;                 // wait for the input method's characters
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    }
    input.addEventListener("input", later);
    input.addEventListener("compositionend", later);
    input.addEventListener("keydown", function (e) {
      if (e.isComposing) return;
      var n = options.length;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { if (n) open(true); else return; }
        setActive(e.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n : active) - 1);
      } else if (e.key === "Enter") {
        e.preventDefault();
        if (!list.hidden && active >= 0) go(active);
        else if (input.value.trim()) window.location.assign(api + "?q=" + encodeURIComponent(input.value.trim()));
      } else if (e.key === "Escape") {
        if (!list.hidden) open(false); else input.value = "";
      }
    });
    input.addEventListener("focus", function () { if (options.length) open(true); });
    input.addEventListener("blur", function () { open(false); });
  }

  function start() {
    var hosts = document.querySelectorAll("[data-sou-search]");
    for (var i = 0; i < hosts.length; i++) mount(hosts[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
