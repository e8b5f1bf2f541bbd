"""The club page, which the clubs and papers views both render: what it shows, and which
of its parts are kept in the cache (paperclub.cache) for every viewer alike.

The parts that do not depend on the viewer are cached, keyed by the versions of the data
they show and the viewer's language and time zone: the club's heading and rendered rules,
the suggest form as a member first sees it, the next session, the first page of the
ballot (its rows' papers and counts), the coming weeks and the recent sessions. A
viewer's own marks (votes and votes left, or their ranking) come from the poll's query,
and the rows are cached once per kind of mark (voted or not, their rank, whether they may
edit it). A warm page sends the session and user queries, then one query for the
viewer's membership, the open poll and their votes (club_page_read), and nothing else.

The page around those parts is cached too, as a frame per kind of viewer (organizer,
member, signed-in outsider, anonymous) with slots for what is the viewer's own
(club_page_html): a warm page is not rendered from the template at all.
"""

import datetime as dt
import functools
import re
import secrets
from dataclasses import dataclass
from types import SimpleNamespace

from django.contrib.messages import get_messages
from django.db.models import Q
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, strip_spaces_between_tags
from django.utils.safestring import SafeString, mark_safe

from clubs.access import ClubAccess, readable
from clubs.models import Club, Membership
from paperclub import cache
from paperclub.http import more_rows
from paperclub.rows import Join, fetch
from papers.forms import SuggestForm
from papers.models import Poll, Ranking, Suggestion, Vote
from papers.polls import close_due_polls
from sessions.models import Meeting
from sessions.services import coming_weeks

CLUB_PAGE = "clubs/club_detail.html"
# Sessions become "recent" and weeks roll over as time passes, without a write: the parts
# that show them are keyed by the time too, to this precision.
TIME_STEP = dt.timedelta(minutes=5)
# Which scopes (paperclub.cache) each part shows.
CLUB = ("club",)
CLUB_BALLOT = ("club", "ballot")
EVERYTHING = ("club", "ballot", "sessions")


def ballot_context(access: ClubAccess, poll: Poll | None, *, votes_used: int | None = None) -> dict:
    """What the ballot regions of the club page need: the candidates and the viewer's votes
    (approval) or ranking (ranked polls)."""
    suggestions = (
        Suggestion.objects.filter(club=access.club)
        .backlog()
        .with_people()
        .defer("paper__abstract")  # the ballot does not show it; it is the widest column
    )
    if poll is not None and poll.is_live:  # a live vote's ballot is its shortlist
        suggestions = suggestions.filter(pk__in=poll.shortlist.values("pk"))
    my_ranking: list[Ranking] = []
    results_visible = poll is not None and poll.results_visible()
    if poll is not None and not results_visible:
        suggestions = suggestions.without_counts()
    elif poll is not None:
        counted = suggestions.with_first_choices if poll.is_ranked else suggestions.with_vote_counts
        suggestions = counted(poll)
    if poll is not None and poll.is_ranked:
        suggestions = suggestions.with_my_rank(poll, access.membership)
        my_ranking = _my_ranking(poll, access.membership)
    elif poll is not None:
        suggestions = suggestions.with_my_votes(poll, access.membership)
        if votes_used is None:  # from Poll.objects.with_votes_used(), else counted here
            votes_used = getattr(poll, "votes_used", None)
        if votes_used is None and access.membership is not None:
            votes_used = Vote.objects.filter(poll=poll, membership=access.membership).count()
    votes_used = votes_used or 0
    return {
        "club": access.club,
        "access": access,
        "poll": poll,
        "suggestions": suggestions,
        "votes_used": votes_used,
        "votes_left": max(poll.budget - votes_used, 0) if poll else 0,
        "results_visible": results_visible,
        # Live bars are drawn as a share of the members who could vote.
        "voters": access.club.memberships.count() if results_visible else 0,
        "my_ranking": ranking_moves(my_ranking),
        "my_order": [r.suggestion_id for r in my_ranking],
        # Reversed once here, not in each row's buttons.
        "ranking_url": reverse("papers:ranking", args=[access.club.slug, poll.pk])
        if poll is not None and poll.is_ranked
        else "",
    }


def _my_ranking(poll: Poll | None, membership: Membership | None) -> list[Ranking]:
    """The member's ranked ballot in a ranked poll, their first choice first (else none)."""
    if poll is None or not poll.is_ranked or membership is None:
        return []
    return list(Ranking.objects.ballot(poll, membership).select_related("suggestion__paper"))


def ranking_moves(ranking: list[Ranking]) -> list[dict]:
    """Each line of a ranked ballot with the whole new order its up, down and remove
    buttons send, so the buttons are plain forms that work without JavaScript."""
    order = [r.suggestion_id for r in ranking]
    lines = []
    for i, line in enumerate(ranking):
        up = down = None
        if i > 0:
            up = [*order[: i - 1], order[i], order[i - 1], *order[i + 1 :]]
        if i < len(order) - 1:
            down = [*order[:i], order[i + 1], order[i], *order[i + 2 :]]
        remove = order[:i] + order[i + 1 :]
        lines.append({"line": line, "up": up, "down": down, "remove": remove})
    return lines


BACKLOG_PAGE = 15  # papers of the ballot rendered at once; more load as they scroll into view


def backlog_page(suggestions, page: int, *, cumulative: bool) -> dict:
    return more_rows(suggestions, page, size=BACKLOG_PAGE, cumulative=cumulative)


def _unclosed_poll(access: ClubAccess) -> Poll | None:
    """The club's open poll with the viewer's votes (None once its deadline has counted it)."""
    poll = Poll.objects.filter(club=access.club).unclosed().with_my_votes(access.membership).first()
    my_votes = {int(pk) for pk in poll.my_vote_ids.split(",") if pk} if poll else set()
    return _current(access.club, poll, my_votes)


def _current(club: Club, poll: Poll | None, my_votes: set[int]) -> Poll | None:
    if poll is not None and not poll.is_open():
        close_due_polls(club=club)  # its deadline passed: count it now, not at the next job
        return None
    if poll is not None:
        poll.club = club
        poll.my_votes = my_votes
        poll.votes_used = len(my_votes)
    return poll


_PAGE_READ = Join((Club, "c"), (Membership, "m"), (Poll, "p"))


@functools.cache
def _page_read_sql() -> str:
    return (
        f"SELECT {_PAGE_READ.columns()}, v.suggestion_id FROM {Club._meta.db_table} c"
        f" LEFT JOIN {Membership._meta.db_table} m ON m.club_id = c.id AND m.user_id = %s"
        f" LEFT JOIN {Poll._meta.db_table} p ON p.club_id = c.id AND p.closed_at IS NULL"
        f" LEFT JOIN {Vote._meta.db_table} v ON v.poll_id = p.id AND v.membership_id = m.id"
        " WHERE c.slug = %s"
    )


def club_page_read(request, slug: str) -> tuple[ClubAccess, Poll | None]:
    """The viewer's access to the club (clubs.access.club_for_reader's rule) and its open
    poll with the viewer's votes, as `_unclosed_poll` gives it: in one query of fixed SQL
    (paperclub.rows), a row per vote, since every view of the club page starts with it."""
    user_pk = request.user.pk if request.user.is_authenticated else None
    rows = fetch(_page_read_sql(), [user_pk, slug])
    if not rows:
        raise Http404("No such club.")
    club, membership, poll = _PAGE_READ.instances(rows[0])
    access = readable(club, membership)
    return access, _current(club, poll, {row[-1] for row in rows if row[-1] is not None})


def _sessions(club) -> dict:
    """The next session and the last few held, in one query (and one per prefetch)."""
    upcoming = Meeting.objects.filter(club=club).upcoming()
    held = Meeting.objects.filter(club=club, state=Meeting.State.HELD).order_by("-starts_at")
    meetings = list(
        Meeting.objects.filter(
            Q(pk__in=upcoming.values("pk")[:1]) | Q(pk__in=held.values("pk")[:RECENT])
        )
        .order_by("-starts_at")
        .with_papers()
    )
    return {
        "next_meeting": next((m for m in meetings if m.state != Meeting.State.HELD), None),
        "recent_meetings": [m for m in meetings if m.state == Meeting.State.HELD],
    }


def _last_result(club):
    return (
        Poll.objects.filter(club=club, closed_at__isnull=False)
        .select_related("club", "winner__paper")
        .first()
    )


def club_page_context(access: ClubAccess, *, regions_only: bool = False, page: int = 1) -> dict:
    """Everything the club page shows, with the ballot's papers up to page `page`, built
    from the database (no cache); or only what its htmx regions need."""
    club = access.club
    poll = _unclosed_poll(access)
    context = ballot_context(access, poll)
    if regions_only:
        return context
    context.update(backlog_page(context["suggestions"], page, cumulative=True))
    context.update(
        _sessions(club),
        last_result=None if poll else _last_result(club),
        suggest_form=SuggestForm() if access.is_member else None,
        weeks=coming_weeks(club, poll=poll),
    )
    return context


def _render(part: str, context: dict) -> str:
    """One partial of the club page, rendered for every viewer: forms get the CSRF slot."""
    return render_to_string(f"{CLUB_PAGE}#{part}", {**context, "csrf_token": cache.CSRF_SLOT})


def _now_step() -> int:
    return int(timezone.now().timestamp() // TIME_STEP.total_seconds())


def _ballot_entry(club: Club, poll: Poll | None, built: dict) -> dict:
    """The ballot's first page as every viewer sees it (marks are put on per viewer): the
    cache entry keeps only what marking needs, each row's HTML is cached on its own. The
    rows' Suggestions go in `built`."""
    everyone = ClubAccess(club=club, membership=None)
    context = ballot_context(everyone, poll)
    rows = backlog_page(context["suggestions"], 1, cumulative=True)
    built.update((row.pk, row) for row in rows["shown"])
    return {
        "shown": [Row(row.pk, row.suggested_by_id) for row in rows["shown"]],
        "next_page": rows["next_page"],
        "results_visible": context["results_visible"],
        "voters": context["voters"],
        "last_result": None if poll else _last_result(club),
    }


def cached_club_page_context(
    request, access: ClubAccess, poll: Poll | None, *, frame: bool = False, ballot=None
) -> dict:
    """The club page's first screen, its shared parts from the cache (see the module's
    docstring); the same page as club_page_context(access) shows. `poll`: from
    club_page_read(). `frame`: the page's frame (club_page_html), with slots for what is
    the viewer's own instead of it. `ballot`: the ballot's entry, when just built."""
    club = access.club
    is_ranked = poll is not None and poll.is_ranked
    my_ranking = [] if frame else _my_ranking(poll, access.membership)
    scopes = cache.Scopes(club.pk)
    poll_pk = poll.pk if poll else 0
    organizer = access.is_organizer
    step = _now_step()
    shared = {"club": club, "poll": poll, "access": SimpleNamespace(is_organizer=organizer)}
    fill = (lambda html, _request: mark_safe(html)) if frame else cache.fill_csrf

    built: dict[int, Suggestion] = {}

    def sessions_parts() -> dict:
        context = {**shared, **_sessions(club), "weeks": coming_weeks(club, poll=poll)}
        return {
            "next_session": _render("next-session", context),
            "coming_weeks": _render("coming-weeks", context),
            "recent_sessions": _render("recent-sessions", context),
        }

    def heading() -> dict:
        return {
            "heading": _render("club-heading", {"club": club}),
            "rules": str(cache.markdown_html(club.rules)),
            # The suggest form as a member first sees it (the same for every member).
            "suggest_form": _render("suggest-form", {"club": club, "suggest_form": SuggestForm()}),
        }

    parts = cache.get_many(
        {
            scopes.key("heading-parts", CLUB): heading,
            scopes.key("ballot", CLUB_BALLOT, poll_pk): lambda: (
                ballot or _ballot_entry(club, poll, built)
            ),
            scopes.key("sessions", EVERYTHING, poll_pk, organizer, step): sessions_parts,
        }
    )
    head, ballot, sessions = parts
    votes_used = getattr(poll, "votes_used", 0) or 0
    context = {
        "club": club,
        "access": access,
        "poll": poll,
        "votes_used": votes_used,
        "votes_left": max(poll.budget - votes_used, 0) if poll else 0,
        "results_visible": ballot["results_visible"],
        "voters": ballot["voters"],
        "last_result": ballot["last_result"],
        "my_ranking": ranking_moves(my_ranking),
        "my_order": [r.suggestion_id for r in my_ranking],
        "ranking_url": reverse("papers:ranking", args=[club.slug, poll.pk]) if is_ranked else "",
        "suggest_form": SuggestForm() if access.is_member else None,
        "next_page": ballot["next_page"],
        "shown": ballot["shown"],
        "parts": {
            "heading": mark_safe(head["heading"]),
            "rules": mark_safe(head["rules"]),
            "suggest_form": fill(head["suggest_form"], request) if access.is_member else "",
            **{name: fill(html, request) for name, html in sessions.items()},
        },
    }
    if frame:
        context["shown_html"] = mark_safe(ROWS_SLOT)
        context["frame"] = {"status": mark_safe(STATUS_SLOT), "ranking": mark_safe(RANKING_SLOT)}
    else:
        context["shown_html"] = fill(_marked_rows(context, scopes, built), request)
    return context


# The club page's frame (club_page_html): the whole page as one kind of viewer sees it,
# with a slot for each thing that is the viewer's own. A slot is text no page holds
# otherwise: no stored text holds NUL (paperclub.text), and the feed token's slot, which
# must pass through a URL, is random, made with the frame and kept with it, so no text
# written before can hold it.
NAME_SLOT = "\x00name\x00"
STATUS_SLOT = "\x00ballot-status\x00"
RANKING_SLOT = "\x00ranking\x00"
ROWS_SLOT = "\x00rows\x00"
HOST_SLOT = "\x00host\x00"
_SLOTS = re.compile("\x00(name|ballot-status|ranking|rows|host|csrf-token)\x00")
assert cache.CSRF_SLOT == "\x00csrf-token\x00"


def _viewer_kind(request, access: ClubAccess) -> str:
    if access.is_organizer:
        return "organizer"
    if access.is_member:
        return "member"
    return "outsider" if request.user.is_authenticated else "anonymous"


def club_page_html(request, access: ClubAccess, poll: Poll | None) -> SafeString | None:
    """The club page as cached_club_page_context's context renders it, without rendering
    the page: its frame for this kind of viewer (organizer, member, signed-in outsider,
    anonymous) is cached, keyed by all the club's data, and the viewer's own parts (name,
    feed links, votes left, ranking, marked rows, CSRF token) go in its slots. A warm page
    is two round trips to the cache. None when the page has messages to show, which are
    rendered the usual way."""
    if len(get_messages(request)):
        return None
    club = access.club
    kind = _viewer_kind(request, access)
    scopes = cache.Scopes(club.pk)
    poll_pk = poll.pk if poll else 0
    built: dict[int, Suggestion] = {}
    made = {}

    def ballot_entry() -> dict:
        made["ballot"] = _ballot_entry(club, poll, built)
        return made["ballot"]

    def frame() -> dict:
        feed_slot = "feed" + secrets.token_hex(16)
        membership = None
        if access.membership is not None:
            membership = Membership(club=club, role=access.membership.role, feed_token=feed_slot)
        viewer = ClubAccess(club=club, membership=membership)
        context = cached_club_page_context(
            request, viewer, poll, frame=True, ballot=made.get("ballot")
        )
        user = SimpleNamespace(is_authenticated=kind != "anonymous", name=NAME_SLOT, pk=None)
        # The feed links are absolute, in the host the page is asked at: a slot too, so
        # that a Host header of its own does not make a frame of its own.
        asker = SimpleNamespace(build_absolute_uri=f"{request.scheme}://{HOST_SLOT}".__add__)
        context.update(user=user, csrf_token=cache.CSRF_SLOT, messages=(), request=asker)
        return {"html": render_to_string(CLUB_PAGE, context), "feed_slot": feed_slot}

    # The ballot first: a frame built on a miss reuses its entry.
    ballot, page = cache.get_many(
        {
            scopes.key("ballot", CLUB_BALLOT, poll_pk): ballot_entry,
            scopes.key("page-frame", EVERYTHING, poll_pk, kind, _now_step(), request.scheme): frame,
        }
    )
    votes_used = getattr(poll, "votes_used", 0) or 0
    my_ranking = _my_ranking(poll, access.membership)
    context = {
        "club": club,
        "access": access,
        "poll": poll,
        "user": request.user,
        "votes_used": votes_used,
        "votes_left": max(poll.budget - votes_used, 0) if poll else 0,
        "my_ranking": ranking_moves(my_ranking),
        "my_order": [r.suggestion_id for r in my_ranking],
        "ranking_url": reverse("papers:ranking", args=[club.slug, poll.pk])
        if poll is not None and poll.is_ranked
        else "",
        "results_visible": ballot["results_visible"],
        "voters": ballot["voters"],
        "shown": ballot["shown"],
    }
    # The rows and the "votes left" line in one more round trip.
    status = scopes.key("ballot-status", CLUB_BALLOT, poll_pk, kind, votes_used, len(my_ranking))
    builds = {
        **_row_builds(context, scopes, built),
        status: lambda: _render("ballot-status", context),
    }
    *rows, status_html = cache.get_many(builds)
    token = cache.csrf_token(request)
    ranking = ""
    if poll is not None and poll.is_ranked and access.is_member:
        ranking = _render("ranking", context)
    filled = {
        "rows": "".join(rows).replace(cache.CSRF_SLOT, token),
        "ballot-status": status_html,
        "ranking": ranking.replace(cache.CSRF_SLOT, token),
        "name": escape(request.user.name) if request.user.is_authenticated else "",
        "host": escape(request.get_host()),
        "csrf-token": token,
    }
    html = page["html"]
    if access.membership is not None:
        html = html.replace(page["feed_slot"], access.membership.feed_token)
    return mark_safe(_SLOTS.sub(lambda slot: filled[slot[1]], html))


def vote_answer(
    request, access: ClubAccess, poll: Poll, suggestion: Suggestion, *, voted: bool, votes_used: int
) -> SafeString:
    """A vote's answer: the paper's row as the club page shows it to the voter now (none for
    a paper no longer on the list) and, out of band, the "votes left" line; both from the
    cache, in one round trip."""
    club = access.club
    scopes = cache.Scopes(club.pk)
    context = {
        "club": club,
        "access": access,
        "poll": poll,
        "votes_used": votes_used,
        "votes_left": max(poll.budget - votes_used, 0),
        "oob": True,
    }
    status = scopes.key("vote-status", CLUB_BALLOT, poll.pk, votes_used)
    builds = {status: lambda: render_to_string(f"{CLUB_PAGE}#vote-status", context)}
    if suggestion.state == Suggestion.State.OPEN:
        results_visible = poll.results_visible()
        poll.my_votes = {suggestion.pk} if voted else set()
        rows = {
            **context,
            "results_visible": results_visible,
            "voters": club.memberships.count() if results_visible else 0,
            "my_ranking": [],
            "ranking_url": "",
            "shown": [Row(suggestion.pk, suggestion.suggested_by_id)],
        }
        builds.update(_row_builds(rows, scopes, {}))
    status_html, *row = cache.get_many(builds)
    # Without the whitespace between tags: the answer is the busiest one the site sends.
    row_html = strip_spaces_between_tags("".join(row).strip())
    return cache.fill_csrf(row_html + status_html, request)


@dataclass(frozen=True)
class Row:
    """What the cache keeps of a ballot row besides its HTML: what its marks depend on."""

    pk: int
    suggested_by_id: int | None


def _marked_rows(context: dict, scopes, built: dict) -> str:
    """The ballot's cached rows with the viewer's marks: each row is cached once per kind
    of mark (voted or not, rank, may edit, may vote). `built`: the rows' Suggestions when
    this request read them; a row missing in the cache otherwise reads them (one query)."""
    return "".join(cache.get_many(_row_builds(context, scopes, built)))


def _row_builds(context: dict, scopes, built: dict) -> dict:
    """The keys of _marked_rows' rows, each with what builds it."""
    access, poll = context["access"], context["poll"]
    user_pk = access.membership.user_id if access.membership else None
    voted = poll.my_votes if poll is not None else set()
    ranks = {line["line"].suggestion_id: n for n, line in enumerate(context["my_ranking"], 1)}
    builds = {}
    for row in context["shown"]:
        can_edit = access.is_organizer or (user_pk is not None and row.suggested_by_id == user_pk)
        mark = (row.pk in voted, ranks.get(row.pk), can_edit, access.is_member)
        builds[scopes.key("row", CLUB_BALLOT, row.pk, poll.pk if poll else 0, *mark)] = (
            lambda row=row, mark=mark: _render_row(context, _suggestion(row.pk), *mark)
        )

    def _suggestion(pk: int) -> Suggestion | None:
        """The row's paper, None once it left the ballot (scheduled or withdrawn since the
        page's first read): the row is then no longer shown."""
        if pk not in built:
            everyone = ClubAccess(club=context["club"], membership=None)
            shown = [row.pk for row in context["shown"]]
            built.update(
                (row.pk, row)
                for row in ballot_context(everyone, poll)["suggestions"].filter(pk__in=shown)
            )
        return built.get(pk)

    return builds


def _render_row(
    context: dict, row: Suggestion | None, voted: bool, rank, can_edit: bool, member: bool
) -> str:
    if row is None:
        return ""
    row.voted_by_me, row.my_rank = voted, rank
    viewer = SimpleNamespace(is_member=member, is_organizer=can_edit)
    return _render(
        "suggestion",
        {
            "club": context["club"],
            "poll": context["poll"],
            "suggestion": row,
            "access": viewer,
            "user": SimpleNamespace(pk=None),
            "results_visible": context["results_visible"],
            "voters": context["voters"],
            "ranking_url": context["ranking_url"],
        },
    )


RECENT = 5  # sessions listed on the club page
