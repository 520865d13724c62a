// Live progress for a replay job's or an upload's page: poll the console's JSON endpoint named
// by data-progress-url and update the bar, the counts and the outcomes until the work has
// finished. Without this script the page refreshes itself (a <noscript> refresh) meanwhile.
(function () {
  "use strict";
  var root = document.querySelector("[data-progress-url]");
  if (!root) { return; }
  var url = root.getAttribute("data-progress-url");

  function part(name) { return document.querySelector("[data-progress=" + name + "]"); }

  function fill(list, counts) {
    if (!list) { return; }
    var names = Object.keys(counts);
    list.textContent = "";
    if (!names.length) { names = [null]; }
    names.forEach(function (name) {
      var item = document.createElement("li");
      item.textContent = name === null ? list.getAttribute("data-empty") : name + ": " + counts[name];
      list.appendChild(item);
    });
  }

  function show(state) {
    var bar = root.querySelector("progress");
    if (bar) {
      bar.max = state.total || 1;
      bar.value = state.total ? state.done : (state.finished ? 1 : 0);
      bar.textContent = state.count_text;
    }
    part("count").textContent = state.count_text;
    var badge = document.createElement("span");
    badge.className = "badge badge-" + state.status;
    badge.textContent = state.status;
    part("status").textContent = "";
    part("status").appendChild(badge);
    // The page shows times as "2026-01-15 10:04:05 UTC"; the services give ISO 8601 in UTC.
    part("finished").textContent = state.finished_time
      ? state.finished_time.slice(0, 19).replace("T", " ") + " UTC" : "—";
    fill(part("by-action"), state.by_action);
    fill(part("failed-fields"), state.failed_fields);
    document.querySelectorAll("[data-progress=while-running]").forEach(function (element) {
      element.hidden = state.finished;
    });
    document.querySelectorAll("[data-progress=when-errors]").forEach(function (element) {
      element.hidden = !state.has_errors;
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (!state.finished) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  poll();
}());
