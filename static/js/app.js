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

// A refusal lands in its region beside the button that asked (htmx_refusal); on a phone
// that region can be just past the bottom of the screen. Bring it into view, only as far
// as it takes, so the member reads why nothing happened.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (event.detail.xhr && event.detail.xhr.status >= 400 && target && target.scrollIntoView) {
    target.scrollIntoView({ block: "nearest" });
  }
});

// A vote or a vote taken back changes what is left of the budget: a refusal shown beside
// another paper ("You have used all 3 of your votes") may no longer hold, so each vote
// that went through clears them (the row it answers comes back without one).
document.addEventListener("voteCast", function () {
  document.querySelectorAll(".suggestion .row-message").forEach(function (message) {
    message.replaceChildren();
  });
});

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

// A first page served before the server knew the viewer's zone shows each club's own time,
// marked by the {% when %} tag. Rewrite those in the browser's zone, in the same words as
// paperclub/when.py, so a reader following a shared link sees her own time at once.
var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function wallClock(moment, zone) {
  var parts = {};
  new Intl.DateTimeFormat("en-US", {
    timeZone: zone, year: "numeric", month: "numeric", day: "numeric",
    hour: "numeric", minute: "numeric", hourCycle: "h23", timeZoneName: "short"
  }).formatToParts(moment).forEach(function (part) { parts[part.type] = part.value; });
  var y = +parts.year, m = +parts.month, d = +parts.day, h = +parts.hour % 24, min = +parts.minute;
  var wall = Date.UTC(y, m - 1, d, h, min);
  var abbreviation = parts.timeZoneName || "";
  return {
    day: y + "-" + m + "-" + d,
    offset: wall - Math.floor(moment.getTime() / 60000) * 60000,
    dayMonth: d + " " + MONTHS[m - 1],
    weekday: DAYS[new Date(wall).getUTCDay()],
    year: y,
    clock: String(h).padStart(2, "0") + ":" + String(min).padStart(2, "0"),
    // "PST", "CET"; "GMT+8" and "UTC" say nothing the zone's name does not.
    abbreviation: /^[A-Za-z]+$/.test(abbreviation) && abbreviation !== "UTC" ? abbreviation : ""
  };
}

function zoneLabel(zone) {
  return "(" + zone.replace(/_/g, " ") + ")";
}

function describeMoment(moment, style, zone, clubZone) {
  var mine = wallClock(moment, zone);
  var text, beside = "";
  if (style === "date") {
    text = mine.dayMonth + " " + mine.year + " " + zoneLabel(zone);
  } else {
    text = mine.weekday + " " + mine.dayMonth + " " + mine.year + ", " + mine.clock +
      (mine.abbreviation ? " " + mine.abbreviation : "") + " " + zoneLabel(zone);
  }
  if (clubZone && clubZone !== zone) {
    var theirs = wallClock(moment, clubZone);
    var sameDay = theirs.day === mine.day;
    if (style === "date") {
      if (!sameDay) beside = theirs.dayMonth + " in the club's time " + zoneLabel(clubZone);
    } else if (theirs.offset !== mine.offset || !sameDay) {
      var clock = sameDay ? theirs.clock : theirs.weekday + " " + theirs.dayMonth + ", " + theirs.clock;
      beside = clock + " in the club's time " + zoneLabel(clubZone);
    }
  }
  return { text: text, beside: beside };
}

function showGuessedTimesIn(zone) {
  document.querySelectorAll("time[data-zone-guessed]").forEach(function (element) {
    var clubZone = element.dataset.clubZone;
    var moment = new Date(element.getAttribute("datetime"));
    if (clubZone === zone || isNaN(moment.getTime())) return;  // already in her zone
    var found = describeMoment(moment, element.dataset.whenFormat, zone, clubZone);
    element.textContent = found.text;
    element.removeAttribute("data-zone-guessed");
    var next = element.nextElementSibling;
    var span = next && next.classList.contains("club-time") ? next : null;
    if (found.beside) {
      if (!span) {
        span = document.createElement("span");
        span.className = "muted club-time";
        element.after(span);
        element.after(" ");
      }
      span.textContent = "· " + found.beside;
    } else if (span) {
      span.remove();
    }
  });
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
    if (zone) showGuessedTimesIn(zone);
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
