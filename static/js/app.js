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
    // Zone names hold only letters, digits, "/", "_", "+" and "-", all safe in a cookie
    // value: write them as they are, since the server compares the name itself.
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var cookie = "tz=" + zone;
    if (zone && /^[A-Za-z0-9\/_+-]+$/.test(zone) && document.cookie.split("; ").indexOf(cookie) === -1) {
      document.cookie = cookie + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (error) {
    // An old browser without Intl: pages keep showing each club's own time.
  }
})();

// Ranked ballots: drag a paper to a new place, then send the whole new order. The arrow
// buttons do the same without a mouse (and without JavaScript).
(function () {
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var line = event.target.closest && event.target.closest(".ranking-line");
    if (!line) return;
    dragged = line;
    line.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", line.dataset.suggestion);
  });
  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var over = event.target.closest && event.target.closest(".ranking-line");
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });
  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var list = dragged.parentNode;
    dragged.classList.remove("dragging");
    dragged = null;
    var order = Array.prototype.map.call(list.querySelectorAll(".ranking-line"), function (li) {
      return li.dataset.suggestion;
    });
    htmx.ajax("POST", list.dataset.rankingUrl, {
      source: list,
      target: "#ranking",
      swap: "outerHTML",
      values: { order: order },
    });
  });
})();
