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
