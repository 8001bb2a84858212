/* sou 搜: the page works without this file; it adds the "/" shortcut and search-as-you-type.
 * No inline script anywhere (the CSP forbids it), no framework, no build step. */
(function () {
  "use strict";

  var input = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (!input) return;

  // "/" focuses the search box, as on GitHub and MDN, unless the user is typing somewhere.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    e.preventDefault();
    input.focus();
    input.select();
  });

  if (!list || !window.fetch) return;

  var url = input.getAttribute("data-suggest-url");
  var DEBOUNCE_MS = 150;
  var timer = null;
  var controller = null;
  var options = [];
  var active = -1;
  var composing = false;

  function close() {
    list.hidden = true;
    list.textContent = "";
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function render(query, suggestions) {
    list.textContent = "";
    options = [];
    active = -1;
    input.removeAttribute("aria-activedescendant");
    suggestions.forEach(function (text, i) {
      var li = document.createElement("li");
      li.id = "suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.value = text;
      li.textContent = text;           // textContent: suggestions are data, never markup
      list.appendChild(li);
      options.push(li);
    });
    var open = options.length > 0 && document.activeElement === input;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function move(delta) {
    if (!options.length) return;
    if (active >= 0) options[active].setAttribute("aria-selected", "false");
    active = (active + 1 + delta + options.length + 1) % (options.length + 1) - 1;   // -1: back in the box
    if (active >= 0) {
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function pick(value) {
    input.value = value;
    close();
    if (input.form.requestSubmit) input.form.requestSubmit(); else input.form.submit();
  }

  function load() {
    var q = input.value;
    if (!q.trim()) { close(); return; }
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    fetch(url + "?q=" + encodeURIComponent(q), {
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    }).then(function (r) {
      return r.ok ? r.json() : { suggestions: [] };
    }).then(function (data) {
      if (input.value === q) render(q, data.suggestions || []);
    }).catch(function (err) {
      if (!err || err.name !== "AbortError") close();
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(load, DEBOUNCE_MS);
  }

  // An input method (pinyin, cangjie...) sends input events for half-typed syllables: wait for
  // the composed characters instead of suggesting for "zhong".
  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function () { composing = false; schedule(); });
  input.addEventListener("input", function (e) {
    if (composing || e.isComposing) return;
    schedule();
  });

  input.addEventListener("keydown", function (e) {
    if (e.isComposing || composing) return;     // Enter confirms the IME's candidate, not ours
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (list.hidden) { if (e.key === "ArrowDown" && input.value.trim()) load(); return; }
      e.preventDefault();
      move(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Enter") {
      if (!list.hidden && active >= 0) {
        e.preventDefault();
        pick(options[active].dataset.value);
      }
    } else if (e.key === "Escape") {
      if (!list.hidden) { e.preventDefault(); close(); }
    }
  });

  list.addEventListener("mousedown", function (e) { e.preventDefault(); });   // keep focus in the box
  list.addEventListener("click", function (e) {
    var li = e.target.closest ? e.target.closest("li[role=option]") : null;
    if (li) pick(li.dataset.value);
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();
