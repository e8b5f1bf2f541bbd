from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from paperclub.http import htmx_refusal


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """403. An htmx request gets the reason as a message, not a whole page in a fragment."""
    if getattr(request, "htmx", False):
        reason = str(exception or "") or "You cannot do that here."
        return htmx_refusal(reason, status=403, target="#messages")
    return render(request, "403.html", {"exception": exception}, status=403)


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
