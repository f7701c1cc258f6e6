/* The console's ticket page, enhanced: who else is on the ticket (a poll
   every 15 s, "replying" while the reply box holds text), a confirm before
   cancelling. Everything works without it.

   The page's forms may be sent without a reload (htmx swaps the new page's
   <main> in): so every listener is on the document, bound once, and each
   use looks the page's elements up again (#presence, #message-body,
   #cancel-form may have been replaced); one poll runs, however many swaps. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  // The confirm before cancelling. On the document while the event goes down
  // (capture): before htmx, which sends the form from the form's own listener.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "cancel-form") { return; }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  if (!window.fetch) { return; }

  function state() {
    var body = $("message-body");
    return body && body.value.trim() ? "replying" : "viewing";
  }

  var last = null;

  function poll() {
    var box = $("presence");
    if (!box) { return; }
    var data = new FormData();
    data.append("csrf_token", box.getAttribute("data-csrf"));
    data.append("state", state());
    last = state();
    fetch(box.getAttribute("data-url"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        // The box of now: a swap may have replaced the one asked for.
        var shown = $("presence");
        if (html !== null && shown) { shown.innerHTML = html; }
      })
      .catch(function () { /* offline a moment: the next poll tries again */ });
  }

  window.setInterval(poll, 15000);
  // Starting or clearing a reply tells colleagues at once, not 15 s later.
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "message-body" && state() !== last) { poll(); }
  });
  // A swapped-in page was drawn with the viewer marked anew (or the text kept
  // after a refusal): the next keystroke says the state again.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "main") { last = null; }
  });

  // Leaving for this same ticket (a form sent, an activity filter) is not
  // leaving: the next page marks the viewer again, and a late "gone" would
  // arrive after that mark and hide them from colleagues. A form htmx sends
  // is no leaving at all (htmx cancels the submit event: not counted).
  var staying = false;
  document.addEventListener("submit", function (event) { if (!event.defaultPrevented) { staying = true; } });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && link.pathname === window.location.pathname) { staying = true; }
  });
  window.addEventListener("pagehide", function () {
    var box = $("presence");
    if (staying || !box || !navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("csrf_token", box.getAttribute("data-csrf"));
    data.append("state", "gone");
    navigator.sendBeacon(box.getAttribute("data-url"), data);
  });
})();
