from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from paperclub.http import htmx_refusal


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """403. An htmx request gets the reason as a message, not a whole page in a fragment."""
    if getattr(request, "htmx", False):
        reason = str(exception or "") or "You cannot do that here."
        return htmx_refusal(reason, status=403, target="#messages")
    return render(request, "403.html", {"exception": exception}, status=403)


BAD_REQUEST = (
    "Your browser sent something Paper Club could not read. Reload the page and try again."
)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """400. Unlike Django's own, not run through the CSRF check: that check reads the form,
    and a form that cannot be read (a charset other than UTF-8) is what often brings a
    request here, so the check would fail again inside the handler, and the request end
    as a 500."""
    if request.headers.get("HX-Request") == "true":
        return htmx_refusal(BAD_REQUEST, status=400, target="#messages")
    return render(request, "400.html", {"reason": BAD_REQUEST}, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A stale form (signed in or out in another tab). htmx gets a message, not a page."""
    if request.headers.get("HX-Request") == "true":
        return htmx_refusal(
            "This page is out of date (you signed in or out elsewhere). Reload it and try again.",
            status=403,
            target="#messages",
        )
    exception = (
        "This page is out of date (you signed in or out elsewhere). "
        "Go back, reload it and try again."
    )
    return render(request, "403.html", {"exception": exception}, status=403)
