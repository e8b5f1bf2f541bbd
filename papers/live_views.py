"""The live vote at the end of a session (papers.live): starting it, the shared screen, the
phone ballot, the fragment both poll, the QR code and the short link."""

import io

import segno
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clubs.access import ClubAccess, club_for_member, club_for_organizer
from paperclub import when
from paperclub.errors import RuleViolation
from paperclub.http import form_status, htmx_refusal, login_required
from paperclub.ratelimit import rate_limit
from paperclub.text import vote_word
from papers import live, polls, votes
from papers.access import live_poll_for_reader, poll_for_reader
from papers.forms import LiveVoteForm, approve_choice
from papers.models import Poll, Suggestion, Vote
from papers.polls import RANKED_TIE_BREAK_RULE, TIE_BREAK_RULE

SCREEN = "papers/live_screen.html"
BALLOT = "papers/live_ballot.html"
VARIANTS = {"screen": f"{SCREEN}#board", "ballot": f"{BALLOT}#state"}


def short_link(poll: Poll) -> str:
    """The address the QR code holds: the live poll's short link, else the club's ballot."""
    if poll.live_code:
        return f"{settings.SITE_URL}{reverse('papers:live_short', args=[poll.live_code])}"
    return f"{settings.SITE_URL}{poll.club.get_absolute_url()}#ballot"


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("announce")
def live_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Start the vote for next week: method, budget, countdown, shortlist. An open
    week-long poll is named, with a box to close it first."""
    access = club_for_organizer(request, slug)
    club = access.club
    polls.close_due_polls(club=club)
    open_poll = Poll.objects.filter(club=club).unclosed().first()
    ahead = live.before_start(club, open_poll)
    rows = list(live.shortlist_choices(club))
    if ahead["scheduled"] is not None:  # closing the open poll takes it off the list
        rows = [s for s in rows if s.pk != ahead["scheduled"].pk]
    choices = [(s.pk, f"{s.display_title} ({_earlier(s.earlier_votes)})") for s in rows]
    form = LiveVoteForm(
        request.POST or None,
        choices=choices,
        open_poll=open_poll,
        # Ticked: the first of them, as papers.live.default_shortlist orders them.
        initial={
            "shortlist": [s.pk for s in rows[: live.SHORTLIST_DEFAULT]],
            "minutes": live.MINUTES_DEFAULT,
        },
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            poll = live.open_live_poll(
                club=club,
                opened_by=request.user,
                shortlist=data["shortlist"],
                minutes=data["minutes"],
                method=data["method"],
                budget=data["budget"],
                show_live_results=not data["hide_results"],
                close_open=data.get("close_open", False),
            )
        except RuleViolation as error:
            form.add_error(None, error.message)
        else:
            return redirect("papers:live_screen", slug=club.slug, pk=poll.pk)
    context = {
        "club": club,
        "access": access,
        "form": form,
        "open_poll": open_poll,
        **ahead,
    }
    return render(request, "papers/live_new.html", context, status=form_status(form))


def _time_left(poll: Poll) -> str:
    """The countdown as m:ss at this moment, so the page reads right before live.js runs."""
    if poll.closes_at is None:
        return ""
    left = max(0, int((poll.closes_at - timezone.now()).total_seconds() + 0.999))
    return f"{left // 60}:{left % 60:02d}"


def _earlier(votes: int) -> str:
    return f"{votes} {vote_word(votes)} in earlier polls" if votes else "new"


def _board_context(poll: Poll) -> dict:
    return {
        **live.board(poll),
        "club": poll.club,
        "rule": RANKED_TIE_BREAK_RULE if poll.is_ranked else TIE_BREAK_RULE,
        "state_url": reverse("papers:live_state", args=[poll.club.slug, poll.pk]),
    }


def _zone(request: HttpRequest) -> str:
    """What a fragment's dates and words depend on: the zone this request shows times in
    (set by the time zone middleware; "club" when it guesses with the club's) and the
    language. Part of every fragment's cache key, so no viewer gets another's dates."""
    zone = when.viewer_zone().key if when.viewer_zone_known() else "club"
    return f"{zone}:{translation.get_language()}"


def _board(request: HttpRequest, poll: Poll, variant: str) -> str:
    """The poll's fragment for this viewer's zone, rendered once per poll state."""

    def render_it() -> str:
        return render(request, VARIANTS[variant], _board_context(poll)).content.decode()

    return live.cached_fragment(poll, variant, _zone(request), render_it)["html"]


def _with_clock(response: HttpResponse) -> HttpResponse:
    # The countdown runs in the browser; this lets it follow the server's clock.
    response["X-Server-Time"] = str(int(timezone.now().timestamp() * 1000))
    return response


@require_safe
def live_screen(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The shared screen: large type, the countdown, the bars, the QR code, no controls."""
    _access, poll = live_poll_for_reader(request, slug, pk)
    poll = live.close_if_due(poll)
    link = short_link(poll)
    context = {
        **_board_context(poll),
        "link": link,
        # Read off the screen and typed: without the scheme, which phones add themselves.
        "link_text": link.removeprefix("https://").removeprefix("http://"),
        "time_left": _time_left(poll),
    }
    return _with_clock(render(request, SCREEN, context))


@require_safe
def live_state(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The fragment screens and ballots poll every second; closes the poll at zero.

    Most reads are served from the cache alone: a public club's fragment to anyone, a
    private club's to a viewer recently found to be a member. Otherwise, and at zero, the
    poll and the viewer's access are read as on every page."""
    variant = request.GET.get("for", "screen")
    if variant not in VARIANTS:
        variant = "screen"
    entry = live.fresh_fragment(pk, slug, variant, _zone(request))
    if entry is not None and (
        entry["public"]
        or (request.user.is_authenticated and live.known_member(entry["club"], request.user.pk))
    ):
        return _fragment(entry["html"])
    access, poll = live_poll_for_reader(request, slug, pk)
    if access.is_member:
        live.remember_member(access.club.pk, request.user.pk)
    poll = live.close_if_due(poll)
    return _fragment(_board(request, poll, variant))


def _fragment(html: str) -> HttpResponse:
    response = HttpResponse(html)
    response["Cache-Control"] = "no-store"
    return _with_clock(response)


@require_safe
def live_qr(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The QR code of the short link, as an SVG image (an <img>, so the CSP stays strict)."""
    _access, poll = live_poll_for_reader(request, slug, pk)
    link = short_link(poll)
    key = f"live:qr:{link}"
    svg = cache.get(key)
    if svg is None:
        out = io.BytesIO()
        segno.make(link, error="m").save(
            out, kind="svg", scale=10, border=2, title="QR code of the ballot's link"
        )
        svg = out.getvalue()
        cache.set(key, svg, live.STATE_TIMEOUT)
    return HttpResponse(svg, content_type="image/svg+xml")


@require_safe
@login_required
def live_short(request: HttpRequest, code: str) -> HttpResponse:
    """The short link on the screen opens the ballot itself, one request less on a phone;
    someone not a member learns how to join (the link came from the screen, so it may
    name the club)."""
    poll = live.poll_by_code(code)
    if poll is None:
        raise Http404("No such vote.")
    membership = poll.club.memberships.filter(user=request.user).first()
    if membership is None:
        return render(request, "papers/live_join.html", {"club": poll.club, "poll": poll})
    return _ballot_page(request, ClubAccess(club=poll.club, membership=membership), poll)


def _choices_context(access, poll: Poll) -> dict:
    """The member's own side of the ballot: each shortlisted paper with their vote or rank."""
    candidates = (
        Suggestion.objects.filter(pk__in=poll.shortlist.values("pk"), state="open")
        .select_related("paper")
        .defer("paper__abstract")
        .order_by("created_at", "id")
    )
    if poll.is_ranked:
        candidates = candidates.with_my_rank(poll, access.membership)
        used = 0
    else:
        candidates = candidates.with_my_votes(poll, access.membership)
        used = Vote.objects.filter(poll=poll, membership=access.membership).count()
    return {
        "club": access.club,
        "access": access,
        "poll": poll,
        "candidates": candidates,
        "votes_left": max(poll.budget - used, 0),
    }


@require_safe
@login_required
def live_ballot(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The phone ballot: one tap per paper, the live state above it."""
    access, poll = poll_for_reader(request, slug, pk)
    if not poll.is_live:
        return redirect(f"{access.club.get_absolute_url()}#ballot")
    if not access.is_member:
        return render(request, "papers/live_join.html", {"club": access.club, "poll": poll})
    return _ballot_page(request, access, poll)


def _ballot_page(request: HttpRequest, access: ClubAccess, poll: Poll) -> HttpResponse:
    poll = live.close_if_due(poll)
    context = {
        **_board_context(poll),
        **_choices_context(access, poll),
        "time_left": _time_left(poll),
    }
    response = render(request, BALLOT, context)
    # Back and Forward must not bring back the ballot as it was before the member's taps.
    response["Cache-Control"] = "no-store"
    return _with_clock(response)


@require_POST
@login_required
@rate_limit("vote")
def live_vote(request: HttpRequest, slug: str, pk: int, suggestion_pk: int) -> HttpResponse:
    """One tap on a paper: approval votes it (approve=1) or takes the vote back (approve=0);
    a ranked ballot puts it last in the member's order, or takes it out (approve=0).
    htmx gets the member's choices back; a refusal is shown above them, nothing written."""
    access = club_for_member(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club, countdown_minutes__isnull=False)
    suggestion = get_object_or_404(Suggestion, pk=suggestion_pk, club=access.club)
    try:
        approve = approve_choice(request.POST)
        if poll.is_ranked:
            order = polls.ranking_of(poll=poll, membership=access.membership)
            order = [s for s in order if s != suggestion.pk] + ([suggestion.pk] if approve else [])
            polls.set_ranking(poll=poll, membership=access.membership, order=order)
        else:
            votes.set_vote(
                poll=poll, membership=access.membership, suggestion=suggestion, approve=approve
            )
    except RuleViolation as error:
        if not request.htmx:
            messages.error(request, error.message)
            return redirect("papers:live_ballot", slug=access.club.slug, pk=poll.pk)
        return htmx_refusal(error.message, status=error.status, target="#choices-message")
    if not request.htmx:
        return redirect("papers:live_ballot", slug=access.club.slug, pk=poll.pk)
    poll.refresh_from_db()
    return render(request, f"{BALLOT}#choices", _choices_context(access, poll))
