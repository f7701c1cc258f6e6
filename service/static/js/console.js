/* kefu console: keyboard shortcuts and focus after an action.
 *
 * Progressive: every link and form of the console works without this file.
 * It holds no visible text: the help dialog and the status messages are
 * written (translated) by web/console/layout.html.
 *
 * Shortcuts (never while typing in a field, except Esc and Ctrl+Enter):
 *   j / k        next / previous ticket in a list (rows tr[data-ticket-url]); Enter opens it
 *   [ / ]        previous / next ticket of the queue the agent last opened (on to the
 *                queue's previous / next page past either end of a page)
 *   r / n        write a public reply / an internal note (#message-body)
 *   Ctrl+Enter   in #message-body: send (#send-reply, or #add-note after n)
 *   a            assign the ticket to me (#assign-me)
 *   / or s       focus the header's search box (#global-search)
 *   g then q     go to the queues
 *   ?            the shortcuts' help (#shortcut-help); Esc closes it
 *
 * Forms htmx sends without a reload (the ticket page's): the page they lead to
 * replaces <main>; this file then sets up what came in (htmx:load) and moves
 * the focus as after a reload (htmx:afterSettle). An answer that is no page of
 * ours (no connection, a proxy's error) leaves the page as it was and shows
 * the page's #no-answer message.
 */
(function () {
  "use strict";

  var QUEUE_KEY = "kefu.queue";  // sessionStorage: {"from": queue address, "tickets": [ticket addresses]}
  var G_WINDOW_MS = 1500;        // how long "g" waits for its second key
  var gPressedAt = 0;

  function $(selector) { return document.querySelector(selector); }

  function isTyping(el) {
    if (!el || el === document.body) { return false; }
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable) { return true; }
    if (tag !== "INPUT") { return false; }
    // Buttons and boxes are not typed into: shortcuts still work on them.
    return ["button", "submit", "reset", "checkbox", "radio", "image", "file", "range", "color"]
      .indexOf((el.type || "").toLowerCase()) < 0;
  }

  function announce(text) {
    var live = $("#kbd-status");
    if (live && text) {
      live.textContent = "";
      // A new text node each time so the same message is read again.
      window.setTimeout(function () { live.textContent = text; }, 50);
    }
  }

  function helpText(name) {
    var help = $("#shortcut-help");
    return help ? help.getAttribute("data-" + name) : "";
  }

  // ---- Lists of tickets: the rows, the chosen one, the queue kept for [ and ].

  function ticketRows() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-ticket-url]"));
    if (rows.length) { return rows; }
    // A list drawn before its rows carried data-ticket-url: the row's link to a ticket says it.
    return Array.prototype.slice.call(document.querySelectorAll("table.tickets tbody tr")).filter(function (row) {
      var link = row.querySelector('a[href*="/console/tickets/"]');
      if (link) { row.setAttribute("data-ticket-url", link.getAttribute("href")); }
      return !!link;
    });
  }

  function rowUrl(row) { return row.getAttribute("data-ticket-url"); }

  // The queue page's own previous and next pages (the pager's links), if any.
  function pagerLink(doc, rel) {
    var link = doc.querySelector('nav.pager a[rel="' + rel + '"]');
    return link ? link.getAttribute("href") : null;
  }

  function keepQueue(from, tickets, prev, next) {
    try {
      window.sessionStorage.setItem(QUEUE_KEY, JSON.stringify({from: from, tickets: tickets, prev: prev, next: next}));
    } catch (e) { /* storage off or full: [ and ] say there is no queue */ }
  }

  function rememberQueue(rows) {
    if (!rows.length) { return; }
    keepQueue(window.location.pathname + window.location.search, rows.map(rowUrl),
              pagerLink(document, "prev"), pagerLink(document, "next"));
  }

  // The tickets of another page of the queue (its address from the pager), read without
  // showing it: [ on the first ticket of a page goes on to the previous page's last one,
  // ] on the last ticket to the next page's first. Answers a promise of the kept queue.
  function fetchQueuePage(address) {
    return window.fetch(address, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
      .then(function (html) {
        var doc = new window.DOMParser().parseFromString(html, "text/html");
        var tickets = Array.prototype.slice.call(doc.querySelectorAll("table.tickets tbody tr"))
          .map(function (row) {
            var link = row.querySelector('a[href*="/console/tickets/"]');
            return link ? link.getAttribute("href") : null;
          })
          .filter(Boolean);
        if (!tickets.length) { return Promise.reject("empty"); }
        var kept = {from: address, tickets: tickets, prev: pagerLink(doc, "prev"), next: pagerLink(doc, "next")};
        keepQueue(kept.from, kept.tickets, kept.prev, kept.next);
        return kept;
      });
  }

  function storedQueue() {
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(QUEUE_KEY) || "null");
      return kept && Array.isArray(kept.tickets) ? kept : null;
    } catch (e) {
      return null;
    }
  }

  function currentRowIndex(rows) {
    var active = document.activeElement;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i] === active || rows[i].contains(active) || rows[i].classList.contains("kbd-current")) { return i; }
    }
    return -1;
  }

  function chooseRow(rows, index) {
    rows.forEach(function (row) { row.classList.remove("kbd-current"); row.removeAttribute("aria-selected"); });
    var row = rows[index];
    row.classList.add("kbd-current");
    // Focus the row's link to its ticket (Enter then opens it, a screen reader reads it);
    // a row without one is focused itself.
    var link = row.querySelector('a[href="' + rowUrl(row) + '"]') || row.querySelector("a[href]");
    if (link) {
      link.focus();
    } else {
      row.tabIndex = -1;
      row.focus();
    }
    row.scrollIntoView({block: "nearest"});
  }

  function moveInList(step) {
    var rows = ticketRows();
    if (!rows.length) { return false; }
    var at = currentRowIndex(rows);
    var next = at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(Math.max(at + step, 0), rows.length - 1);
    chooseRow(rows, next);
    return true;
  }

  function openChosenRow(event) {
    var rows = ticketRows();
    var at = currentRowIndex(rows);
    // A focused link opens by itself; only a focused row needs help.
    if (at < 0 || document.activeElement !== rows[at]) { return false; }
    event.preventDefault();
    window.location.assign(rowUrl(rows[at]));
    return true;
  }

  function neighbour(step) {
    var kept = storedQueue();
    if (!kept) { announce(helpText("no-queue")); return true; }
    var here = window.location.pathname;
    var at = kept.tickets.indexOf(here);
    var to = at < 0 ? -1 : at + step;
    if (to >= 0 && to < kept.tickets.length) {
      window.location.assign(kept.tickets[to]);
      return true;
    }
    // Past either end of the page: the queue's next (or previous) page, when it has one.
    var other = at < 0 ? null : (step > 0 ? kept.next : kept.prev);
    function noMore() { announce(helpText(step > 0 ? "no-next" : "no-previous")); }
    if (!other || !window.fetch || !window.DOMParser) { noMore(); return true; }
    fetchQueuePage(other).then(function (page) {
      window.location.assign(step > 0 ? page.tickets[0] : page.tickets[page.tickets.length - 1]);
    }, noMore);
    return true;
  }

  // ---- The ticket page: reply, note, assign.

  function compose(mode) {
    var box = $("#message-body");
    if (!box) { return false; }
    var reply = $("#send-reply");
    var note = $("#add-note");
    box.classList.toggle("note-mode", mode === "note");
    box.setAttribute("data-compose", mode);
    if (note) { note.setAttribute("data-armed", mode === "note" ? "true" : "false"); }
    if (reply) { reply.setAttribute("data-armed", mode === "note" ? "false" : "true"); }
    box.focus();
    announce(helpText(mode === "note" ? "note-mode" : "reply-mode"));
    return true;
  }

  function sendComposed() {
    var box = $("#message-body");
    var button = box && box.getAttribute("data-compose") === "note" ? $("#add-note") : $("#send-reply");
    if (!button || button.disabled) { return false; }
    // A click, not form.submit(): the button's name and value travel with the form
    // and the form's own checks (required) still run.
    button.click();
    return true;
  }

  function click(selector) {
    var el = $(selector);
    if (!el || el.disabled) { return false; }
    el.click();
    return true;
  }

  // ---- Search, queues, help.

  function focusSearch() {
    var box = $("#global-search");
    if (!box) { return false; }
    box.focus();
    box.select();
    return true;
  }

  function goToQueues() {
    var home = $(".console-top .brand a");
    if (!home) { return false; }
    window.location.assign(home.getAttribute("href"));
    return true;
  }

  var helpOpener = null;

  function openHelp() {
    var help = $("#shortcut-help");
    if (!help || typeof help.showModal !== "function") { return false; }
    if (help.open) { return true; }
    helpOpener = document.activeElement;
    help.showModal();
    var close = $("#close-shortcuts");
    if (close) { close.focus(); }
    return true;
  }

  function onHelpClosed() {
    // Back where the agent was (the browser may not do it for a dialog closed by Esc).
    if (helpOpener && document.contains(helpOpener) && typeof helpOpener.focus === "function") {
      helpOpener.focus();
    }
    helpOpener = null;
  }

  // ---- The key handler.

  function onKey(event) {
    if (event.defaultPrevented || event.isComposing || event.keyCode === 229) { return; }
    var target = event.target;
    var key = event.key;
    var help = $("#shortcut-help");
    if (help && help.open) { return; }  // the dialog handles its own keys (Esc closes it)

    if (isTyping(target)) {
      if (key === "Escape" && target.blur) {
        target.blur();
      } else if (key === "Enter" && (event.ctrlKey || event.metaKey) && target.id === "message-body") {
        if (sendComposed()) { event.preventDefault(); }
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }

    var wasG = gPressedAt && Date.now() - gPressedAt < G_WINDOW_MS;
    gPressedAt = 0;
    var done = false;
    switch (key) {
      case "j": done = moveInList(1); break;
      case "k": done = moveInList(-1); break;
      case "Enter": openChosenRow(event); return;
      case "]": done = neighbour(1); break;
      case "[": done = neighbour(-1); break;
      case "r": done = compose("reply"); break;
      case "n": done = compose("note"); break;
      case "a": done = click("#assign-me"); break;
      case "/": case "s": done = focusSearch(); break;
      case "?": done = openHelp(); break;
      case "g": gPressedAt = Date.now(); done = true; break;
      case "q": done = wasG && goToQueues(); break;
      default: return;
    }
    if (done) { event.preventDefault(); }
  }

  // ---- Focus after an action: the flash message that says what happened, else the heading.

  function arrivedByRedirect() {
    var entries = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    return entries.length > 0 && entries[0].redirectCount > 0;
  }

  function shownFlash() {
    // Not #no-answer while it waits, hidden, for a failed send.
    return document.querySelector('main .flash[role="alert"]:not([hidden]), main .flash[role="status"]:not([hidden])');
  }

  function focusAfterAction() {
    var flash = shownFlash();
    var target = flash || (arrivedByRedirect() ? document.querySelector("main h1") : null);
    if (!target || (document.activeElement && document.activeElement !== document.body)) { return; }
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    // An address that names a place (#timeline after a reply) keeps the page there.
    target.focus({preventScroll: !!window.location.hash});
  }

  // ---- After a form sent without a reload: htmx swapped in the page it led to.

  function focusAfterSwap() {
    var flash = shownFlash();
    var target = flash || document.querySelector("main h1");
    if (!target) { return; }
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    // htmx has scrolled where the form asked (the top, or the reply box after a reply,
    // as the redirect's #reply does); a refusal or an error is scrolled to: read it first.
    target.focus({preventScroll: !(flash && flash.getAttribute("role") === "alert")});
  }

  function noAnswer() {
    var said = $("#no-answer");
    if (!said) { return; }
    said.hidden = false;
    said.setAttribute("tabindex", "-1");
    said.focus();
  }

  function onBeforeSwap(event) {
    var detail = event.detail;
    // Only a page of ours has the <main> to swap in: anything else would empty the page.
    if (detail.shouldSwap && String(detail.serverResponse).indexOf('id="main"') < 0) {
      detail.shouldSwap = false;
      noAnswer();
    }
  }

  // ---- Setting up: the page's parts once each (again for the parts a swap brings).

  function setUp() {
    var rows = ticketRows();
    if (rows.length && !document.querySelector("#message-body")) { rememberQueue(rows); }
    var opener = $("#open-shortcuts");
    if (opener && $("#shortcut-help") && !opener.hasAttribute("data-ready")) {
      opener.setAttribute("data-ready", "");
      opener.hidden = false;
      opener.addEventListener("click", openHelp);
    }
    var box = $("#message-body");
    if (box) { box.setAttribute("aria-keyshortcuts", "r n"); }
    var assign = $("#assign-me");
    if (assign) { assign.setAttribute("aria-keyshortcuts", "a"); }
  }

  function start() {
    setUp();
    var help = $("#shortcut-help");
    if (help) { help.addEventListener("close", onHelpClosed); }
    document.addEventListener("keydown", onKey);
    // htmx's events (they bubble to the document; without htmx they never come).
    document.addEventListener("htmx:load", setUp);
    document.addEventListener("htmx:beforeSwap", onBeforeSwap);
    document.addEventListener("htmx:sendError", noAnswer);
    document.addEventListener("htmx:afterSettle", function (event) {
      // After htmx's own scrolling (it follows this event): the focus comes last.
      if (event.target && event.target.id === "main") { window.setTimeout(focusAfterSwap, 0); }
    });
    if (window.location.hash && document.readyState !== "complete") {
      // The browser scrolls to #place once the page has loaded, and takes the focus
      // away doing so: move it after that.
      window.addEventListener("load", function () { window.setTimeout(focusAfterAction, 0); });
    } else {
      focusAfterAction();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
