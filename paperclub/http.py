import re
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def login_required(view):
    """Like Django's, but an htmx request is sent to sign-in with a full-page redirect,
    so the sign-in form is never swapped into a fragment of the page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            back = request.htmx.current_url_abs_path or "/"
            login = resolve_url(settings.LOGIN_URL)
            return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back})}")
        return redirect_to_login(_back_to(request))

    return wrapper


def _back_to(request) -> str:
    """Where to return after signing in: this page, or for a POST the page it came from
    (a POST-only URL would answer the browser's GET with 405)."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return "/"


def safe_redirect(request, target: str | None, *, fallback: str) -> HttpResponseRedirect:
    """Redirect to `target`, a path on this site that came with the request (a `next`
    field, a Referer), or to `fallback` when it is anything else.

    Only a path is taken: "/…", not "//host", not a URL name (Django's `redirect()` would
    look up "abc" as one and fail), no control characters, no backslashes (some browsers
    read "/\\host" as "//host"). `fallback` is the view's own, never the visitor's.
    """
    return HttpResponseRedirect(target if is_local_path(target) else fallback)


def is_local_path(target: str | None) -> bool:
    """A path on this site ("/…"), the only redirect target taken from a request."""
    target = target or ""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target  # some browsers read "/\\host" as "//host"
        and not _UNSAFE_IN_PATH.search(target)
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
    )


_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")


def htmx_refusal(message: str, *, status: int, target: str) -> HttpResponse:
    """A refusal shown in the page region `target` (a CSS selector), for htmx requests.

    The page around it stays as it was: nothing was written.
    """
    response = HttpResponse(format_html('<p class="error">{}</p>', message), status=status)
    response["HX-Retarget"] = target
    response["HX-Reswap"] = "innerHTML"
    return response


def form_status(form) -> int:
    """422 for a submitted form with errors (htmx swaps it in; tests can tell), else 200."""
    return 422 if form.is_bound and form.errors else 200


PAGE_NUMBER = re.compile(r"[0-9]{1,3}")  # ASCII digits only: str.isdigit() also takes "²"


def page_number(request) -> int:
    """The `page` asked for: 1 unless it is a plain number from 1 to 999."""
    page = request.GET.get("page", "")
    return max(int(page), 1) if PAGE_NUMBER.fullmatch(page) else 1


def more_rows(rows, page: int, *, size: int, cumulative: bool) -> dict:
    """For lists that load as they scroll: page `page` alone (htmx appends it to the list),
    or pages 1 to `page` together (a plain "Show more" link). `shown` is the rows,
    `next_page` the page after them, or None at the end."""
    start = 0 if cumulative else (page - 1) * size
    count = page * size - start
    found = list(rows[start : start + count + 1])
    return {"shown": found[:count], "next_page": page + 1 if len(found) > count else None}


def private_cache(get_response):
    """Middleware: a page for a signed-in member, a feed read with a secret token, or a page
    holding a CSRF token (a sign-in form, say: its token is the visitor's own) may be kept
    by the browser but by no shared cache (`Cache-Control: private`), unless the view said
    otherwise. Every answer varies on `HX-Request`: one address serves a page or, to
    htmx, a fragment of it, and the browser must not give the fragment back for the page
    (as Back did after an in-place update)."""

    def middleware(request):
        response = get_response(request)
        patch_vary_headers(response, ["HX-Request"])
        match = getattr(request, "resolver_match", None)
        secret = match is not None and "token" in match.kwargs
        # get_token() marks the request: the CSRF middleware then sets the visitor's cookie.
        secret = secret or request.META.get("CSRF_COOKIE_NEEDS_UPDATE", False)
        if not response.has_header("Cache-Control") and (secret or request.user.is_authenticated):
            patch_cache_control(response, private=True)
        return response

    return middleware
