// Live progress for a replay job's page: poll the console's JSON endpoint and update the bar,
// the counts and the outcomes until the job has finished. Without this script the page
// refreshes itself (a <noscript> refresh) while the job runs.
(function () {
  "use strict";
  var root = document.getElementById("replay-job");
  if (!root) { return; }
  var url = root.getAttribute("data-progress-url");
  var bar = document.getElementById("job-progress");
  var count = document.getElementById("job-count");
  var status = document.getElementById("job-status");
  var finished = document.getElementById("job-finished");
  var cancel = document.getElementById("cancel-form");

  function fill(list, counts, empty) {
    list.textContent = "";
    var names = Object.keys(counts);
    if (!names.length) { names = [null]; }
    names.forEach(function (name) {
      var item = document.createElement("li");
      item.textContent = name === null ? empty : name + ": " + counts[name];
      list.appendChild(item);
    });
  }

  function show(job) {
    bar.max = job.total || 1;
    bar.value = job.total ? job.done : 1;
    bar.textContent = job.percent + "%";
    count.textContent = job.done + " of " + job.total + " (" + job.percent + "%)";
    var badge = document.createElement("span");
    badge.className = "badge badge-" + job.status;
    badge.textContent = job.status;
    status.textContent = "";
    status.appendChild(badge);
    // The page shows times as "2026-01-15 10:04:05 UTC"; the service gives ISO 8601 in UTC.
    finished.textContent = job.finished_time
      ? job.finished_time.slice(0, 19).replace("T", " ") + " UTC" : "—";
    fill(document.getElementById("job-actions"), job.by_action, "none yet");
    fill(document.getElementById("job-fields"), job.failed_fields, "none");
    if (job.finished && cancel) { cancel.hidden = true; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (!job.finished) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  poll();
}());
