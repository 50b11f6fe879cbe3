// evcrm console: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  // Live SLA countdowns: <time data-countdown datetime="...">.
  function span(ms) {
    var m = Math.floor(ms / 60000);
    if (m < 60) return m + " min";
    if (m < 48 * 60) return Math.floor(m / 60) + " h " + (m % 60) + " min";
    return Math.floor(m / 1440) + " d " + (Math.floor(m / 60) % 24) + " h";
  }
  function tick() {
    var els = document.querySelectorAll("time[data-countdown]");
    var now = Date.now();
    for (var i = 0; i < els.length; i++) {
      var t = Date.parse(els[i].getAttribute("datetime"));
      if (isNaN(t) || t < 0) continue;
      var d = t - now;
      els[i].textContent = d < 0 ? "overdue by " + span(-d) : "in " + span(d);
    }
  }
  // A form whose first field names a path segment (the record's stream).
  function pathForms() {
    var forms = document.querySelectorAll("form[data-path-from]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener("submit", function (ev) {
        var f = ev.target, name = f.getAttribute("data-path-from");
        var v = f.elements[name].value.trim();
        if (!v) return;
        ev.preventDefault();
        var q = [];
        for (var j = 0; j < f.elements.length; j++) {
          var el = f.elements[j];
          if (el.name && el.name !== name && el.value) q.push(encodeURIComponent(el.name) + "=" + encodeURIComponent(el.value));
        }
        window.location.assign(f.getAttribute("action") + encodeURIComponent(v) + (q.length ? "?" + q.join("&") : ""));
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    pathForms();
    if (document.querySelector("time[data-countdown]")) { tick(); setInterval(tick, 30000); }
  });
})();
