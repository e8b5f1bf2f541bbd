// Paper Club's only script of its own. htmx does the rest.
// When a request fails outright (network down, server error), say so instead of doing nothing.
document.addEventListener("htmx:responseError", function (event) {
  showProblem("Something went wrong (" + event.detail.xhr.status + "). Please reload the page and try again.");
});
document.addEventListener("htmx:sendError", function () {
  showProblem("Could not reach Paper Club. Check your connection and try again.");
});

function showProblem(text) {
  var box = document.getElementById("messages");
  if (!box) return;
  var p = document.createElement("p");
  p.className = "message message-error";
  p.textContent = text;
  box.replaceChildren(p);
}

// Remember the browser's time zone, so pages show times in it (and new accounts start in it).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var cookie = "tz=" + encodeURIComponent(zone);
    if (zone && document.cookie.split("; ").indexOf(cookie) === -1) {
      document.cookie = cookie + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (error) {
    // An old browser without Intl: pages keep showing each club's own time.
  }
})();
