// The mapping editor's live dry run: as the mapping or the payload changes, ask the server what
// the payload would do under the edited mapping (the same dry run the buttons run) and show it.
// Without this script the editor's buttons do the same, one submit at a time.
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form) { return; }
  var mapping = document.getElementById("mapping");
  var payload = document.getElementById("payload");
  var output = document.getElementById("live-result");
  var token = form.querySelector("input[name=csrf_token]").value;
  var url = form.getAttribute("data-dry-run-url");
  var timer = null;
  var latest = 0;

  function describe(answer) {
    if (answer.errors) {
      return Object.keys(answer.errors).map(function (field) {
        return field + ": " + answer.errors[field].join("; ");
      }).join("\n");
    }
    if (answer.problems) { return "Mapping refused:\n" + answer.problems.join("\n"); }
    var result = answer.result;
    var lines = ["Would " + result.would + (result.lead_id ? " lead " + result.lead_id : "")];
    result.errors.forEach(function (error) { lines.push(error.field + ": " + error.message); });
    lines.push(JSON.stringify(result.lead, null, 2));
    return lines.join("\n");
  }

  function run() {
    if (!payload.value.trim()) { output.hidden = true; return; }
    var request = ++latest;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ mapping: mapping.value, payload: payload.value })
    }).then(function (response) {
      return response.json();
    }).then(function (answer) {
      if (request !== latest) { return; }  // a newer edit's answer is on its way
      output.textContent = "Live dry run: " + describe(answer);
      output.hidden = false;
    }).catch(function () {
      output.textContent = "Live dry run unavailable; use the Dry run button.";
      output.hidden = false;
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(run, 400);
  }

  mapping.addEventListener("input", schedule);
  payload.addEventListener("input", schedule);
  run();
}());
