// appctl console: progressive enhancement only (every page works without it).
// 1. The tool list filters as you type in #tool-search (the page's tools; Search asks the server).
// 2. The approvals page reloads every 5 s while nothing in it has the focus or holds text.
(function () {
  "use strict";
  var search = document.getElementById("tool-search");
  var list = document.getElementById("tools");
  if (search && list) {
    search.addEventListener("input", function () {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var items = list.querySelectorAll("li.tool");
      for (var i = 0; i < items.length; i++) {
        var text = items[i].getAttribute("data-text") || "";
        var shown = words.every(function (w) { return text.indexOf(w) !== -1; });
        items[i].hidden = !shown;
      }
    });
  }
  var decided = document.getElementById("decided");
  if (decided) {
    setInterval(function () {
      var active = document.activeElement;
      var busy = active && active !== document.body && active.tagName !== "A";
      var typed = Array.prototype.some.call(
        document.querySelectorAll("form.decide input[name]"),
        function (input) { return input.value !== ""; }
      );
      // a GET of the queue page, never a repeat of the decision this page may answer
      if (!busy && !typed) { window.location.assign(decided.getAttribute("data-refresh")); }
    }, 5000);
  }
})();
