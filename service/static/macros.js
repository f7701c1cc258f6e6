/* Canned replies: the picker's "Insert" puts the reply rendered for this
   ticket into the reply box (#message-body) and focuses it. Without this
   script (or when the fetch fails) the same button opens the preview page.
   One listener on the document: the picker may be replaced by a page
   swapped in without a reload (htmx), so it is looked up at each click. */
(function () {
  "use strict";
  if (!window.fetch) { return; }
  document.addEventListener("click", function (event) {
    var insert = event.target.closest && event.target.closest("#macro-insert");
    var form = document.getElementById("macro-picker");
    var box = document.getElementById("message-body");
    if (!insert || !form || !box) { return; }
    event.preventDefault();
    var status = document.getElementById("macro-status");
    fetch(form.getAttribute("data-preview") + form.elements.macro.value,
          { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        var start = box.selectionStart, end = box.selectionEnd;
        if (box.value.trim() === "") {
          box.value = data.text;
          start = 0;
        } else {
          box.value = box.value.slice(0, start) + data.text + box.value.slice(end);
        }
        box.focus();
        box.setSelectionRange(start + data.text.length, start + data.text.length);
        if (status) { status.textContent = data.note; }
      })
      .catch(function () {
        form.requestSubmit(insert);  /* the page without a script: the preview to edit and send */
      });
  });
}());
