/* The console's ticket page, enhanced: who else is on the ticket (a poll
   every 15 s, "replying" while the reply box holds text), a confirm before
   cancelling. Everything works without it. */
(function () {
  "use strict";
  var box = document.getElementById("presence");
  var body = document.getElementById("message-body");
  var form = document.getElementById("cancel-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-url");
  var token = box.getAttribute("data-csrf");
  function state() { return body && body.value.trim() ? "replying" : "viewing"; }
  var last = null;
  function poll() {
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("state", state());
    last = state();
    fetch(url, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { box.innerHTML = html; } })
      .catch(function () { /* offline a moment: the next poll tries again */ });
  }
  setInterval(poll, 15000);
  if (body) {
    // Starting or clearing a reply tells colleagues at once, not 15 s later.
    body.addEventListener("input", function () { if (state() !== last) { poll(); } });
  }
  // Leaving for this same ticket (a form sent, an activity filter) is not
  // leaving: the next page marks the viewer again, and a late "gone" would
  // arrive after that mark and hide them from colleagues.
  var staying = false;
  document.addEventListener("submit", function (event) { if (!event.defaultPrevented) { staying = true; } });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && link.pathname === window.location.pathname) { staying = true; }
  });
  window.addEventListener("pagehide", function () {
    if (staying || !navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("state", "gone");
    navigator.sendBeacon(url, data);
  });
})();
