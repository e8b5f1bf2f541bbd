// The live vote's countdown (papers/live_views.py): each [data-countdown-to] holds the
// closing time in Unix seconds; it shows m:ss, following the server's clock, which each
// response of the live pages carries in X-Server-Time (milliseconds).
(function () {
  var offset = 0; // server clock minus this browser's clock, in ms

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var server = xhr && Number(xhr.getResponseHeader("X-Server-Time"));
    if (server) { offset = server - Date.now(); }
  });

  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-countdown-to]").forEach(function (element) {
      var left = Math.max(0, Math.ceil(Number(element.dataset.countdownTo) - now / 1000));
      var text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (element.textContent !== text) { element.textContent = text; }
    });
  }

  // A ballot restored from the back-forward cache shows the votes as they were when it was
  // left: read it again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.getElementById("choices")) { window.location.reload(); }
  });

  setInterval(tick, 250);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:load", tick);
})();
