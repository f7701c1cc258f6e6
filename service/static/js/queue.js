/* The queue page's bulk form, enhanced: a select-all box, and the workflow
   steps narrowed to those legal for every checked row (each row lists its
   own in data-actions). Without this script the page offers the steps legal
   for every row on the page, and the server checks each ticket anyway. */
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  var all = document.getElementById("select-all");
  if (!form) { return; }
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name="tickets"][form="bulk-form"]'));
  var steps = Array.prototype.slice.call(form.querySelectorAll("option[data-step]"));

  function refresh() {
    var checked = boxes.filter(function (b) { return b.checked; });
    var rows = checked.length ? checked : boxes;
    steps.forEach(function (option) {
      var legal = rows.every(function (b) {
        return (" " + b.getAttribute("data-actions") + " ").indexOf(" " + option.value + " ") >= 0;
      });
      option.disabled = !legal;
      if (!legal && option.selected) { form.querySelector("#bulk-action").selectedIndex = 0; }
    });
    if (all) {
      all.checked = checked.length === boxes.length && boxes.length > 0;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
  }

  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      refresh();
    });
  }
  boxes.forEach(function (b) { b.addEventListener("change", refresh); });
  refresh();
}());
