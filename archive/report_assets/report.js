// Client-side filters of the change index. The only script the report's CSP allows.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var site = document.getElementById("f-site"), kind = document.getElementById("f-kind"),
      text = document.getElementById("f-text");
  if (!site) return;
  function apply() {
    var s = site.value, k = kind.value, t = text.value.trim().toLowerCase();
    document.querySelectorAll("li.change").forEach(function (li) {
      var ok = (!s || li.dataset.site === s) && (!k || li.dataset.kind === k) &&
               (!t || li.textContent.toLowerCase().indexOf(t) >= 0);
      li.classList.toggle("hidden", !ok);
    });
    document.querySelectorAll("section").forEach(function (sec) {
      sec.classList.toggle("hidden", !sec.querySelector("li.change:not(.hidden)"));
    });
  }
  [site, kind, text].forEach(function (el) { el.addEventListener("input", apply); });
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
});
