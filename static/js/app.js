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

// The suggest form: a link lookup fills in the paper's details, but only into fields that
// are still empty and not being typed in. An answer that arrives late must not overwrite
// what the member typed after the lookup started (the server saw those fields empty).
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var field = event.detail.target;
  if (!field || !field.form || field.form.id !== "suggest-form" || field.tagName !== "INPUT") return;
  if (field.value.trim() !== "" || field === document.activeElement) {
    event.detail.shouldSwap = false;
  }
});

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

// Calendar subscriptions: a "Copy" button beside each feed address. Without JavaScript the
// button stays hidden and the address is selected and copied by hand.
(function () {
  function showCopyButtons() {
    document.querySelectorAll(".copy-button[hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showCopyButtons);
  } else {
    showCopyButtons();
  }
  document.addEventListener("htmx:load", showCopyButtons);
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("feed-url")) {
      event.target.select();
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".copy-button");
    if (!button) return;
    var input = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copy + "-status");
    function done(text) {
      if (status) status.textContent = text;
    }
    input.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(
        function () { done("Copied. Paste it into your calendar app."); },
        function () { done("Could not copy: the address is selected, copy it with Ctrl+C or ⌘C."); }
      );
    } else {
      done("The address is selected: copy it with Ctrl+C or ⌘C.");
    }
  });
})();
