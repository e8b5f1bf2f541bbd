import re

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import trigger_client_event

from clubs.access import club_for_member, club_for_organizer, club_for_reader
from clubs.page import ballot_context, club_page_context, vote_answer
from paperclub import cache as page_cache
from paperclub.errors import RuleViolation
from paperclub.http import form_status, htmx_refusal, login_required, safe_redirect
from paperclub.ratelimit import rate_limit
from paperclub.text import strip_control
from papers import arxiv, catalog, polls, ranked, services, votes
from papers.access import (
    poll_for_reader,
    suggestion_for_editor,
    suggestion_for_member,
    track_entry_for_organizer,
    track_for_organizer,
    track_for_reader,
    vote_target,
)
from papers.forms import (
    ImportForm,
    OverrideForm,
    PollForm,
    SuggestForm,
    SuggestionEditForm,
    TrackEntryAddForm,
    TrackEntryForm,
    TrackForm,
    approve_choice,
)
from papers.models import Poll, Suggestion, Tally, Track, TrackEntry
from papers.polls import RANKED_TIE_BREAK_RULE, TIE_BREAK_RULE
from papers.reading_lists.export import club_bibtex, club_markdown
from papers.reading_lists.items import ReadingListError
from papers.reading_lists.plan import plan_import
from papers.reading_lists.services import import_reading_list
from papers.services import DuplicateSuggestion

CLUB_PAGE = "clubs/club_detail.html"


def _duplicate_url(suggestion: Suggestion) -> str:
    meeting = services.last_session(suggestion)
    if meeting is not None:
        return meeting.get_absolute_url()
    return f"{suggestion.club.get_absolute_url()}#suggestion-{suggestion.pk}"


def _autofill(form: SuggestForm, club) -> None:
    """An arXiv paper the catalog has not had confirmed: ask arXiv now, so the shared row
    holds arXiv's details whatever the member typed. When arXiv cannot answer, a form
    without a title says so; one with a title goes on (papers.tasks asks again later)."""
    arxiv_id, _ = services.identify_paper(form.cleaned_data["link"])
    if not arxiv_id:
        return
    known = services.find_paper(form.cleaned_data["link"])
    if known is not None and known.from_arxiv:
        return
    try:
        services.fetch_paper(arxiv_id=arxiv_id)
    except arxiv.ArxivError as error:
        # Without arXiv the club types the title itself, also for a paper another club
        # typed by hand (its title is that club's own, see papers.catalog).
        has_it = known is not None and Suggestion.objects.filter(club=club, paper=known).exists()
        if not form.cleaned_data.get("title") and not has_it:
            form.require_title()
            form.add_error("title", error.message)


@require_POST
@login_required
@rate_limit("suggest")
def suggest(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_member(request, slug)
    form = SuggestForm(request.POST)
    duplicate_url = ""
    form.is_valid()  # cleans every field, so a good link is looked up whatever else is wrong
    if "link" in form.cleaned_data:
        _autofill(form, access.club)
    if form.is_valid():
        try:
            suggestion = services.suggest_paper(
                club=access.club, suggested_by=request.user, **form.cleaned_data
            )
        except DuplicateSuggestion as error:
            form.add_error("link", error.message)
            duplicate_url = _duplicate_url(error.suggestion)
        except RuleViolation as error:
            form.add_error(None, error.message)
        else:
            if not request.htmx:
                messages.success(request, f"“{suggestion.display_title}” is on the list.")
                return redirect(f"{access.club.get_absolute_url()}#suggestion-{suggestion.pk}")
            context = {
                "club": access.club,
                "access": access,
                "suggest_form": SuggestForm(),
                "added": suggestion,
            }
            response = render(request, f"{CLUB_PAGE}#suggest-form", context)
            return trigger_client_event(response, "suggestionAdded")
    context = {
        "club": access.club,
        "access": access,
        "suggest_form": form,
        "duplicate_url": duplicate_url,
    }
    if request.htmx:
        return render(request, f"{CLUB_PAGE}#suggest-form", context, status=422)
    return render(request, CLUB_PAGE, {**club_page_context(access), **context}, status=422)


@require_POST
@login_required
@rate_limit("link_check")
def suggest_check(request: HttpRequest, slug: str) -> HttpResponse:
    """As-you-type feedback on the link field: what paper it is, and whether the club has it.

    It shows what arXiv said about the paper, or the club's own copy of a paper it has; a
    paper typed by hand in another club shows nothing of what that club typed.
    """
    access = club_for_member(request, slug)
    link = request.POST.get("link", "").strip()
    context = {"club": access.club, "link": link}
    if link:
        try:
            arxiv_id, _ = services.identify_paper(link)
        except RuleViolation as error:
            context["problem"] = error.message
        else:
            context["arxiv_id"] = arxiv_id
            paper = services.find_paper(link)
            if arxiv_id and (paper is None or not paper.from_arxiv):
                try:
                    paper = services.fetch_paper(arxiv_id=arxiv_id)
                except arxiv.ArxivError as error:
                    context["arxiv_problem"] = error.message
            existing = (
                Suggestion.objects.filter(club=access.club, paper=paper)
                .select_related("suggested_by", "paper", "club")
                .first()
                if paper
                else None
            )
            if paper is not None and paper.from_arxiv:
                context["paper"] = catalog.SharedDetails.of(paper)
                # Only the fields the member left empty are filled (the page, too, fills
                # only a field nobody has typed in since the lookup started).
                context["fill_fields"] = {
                    name
                    for name in ("title", "authors", "year")
                    if not request.POST.get(name, "").strip()
                }
            elif existing is not None:
                context["paper"] = catalog.SharedDetails.of_suggestion(existing)
            if existing is not None and existing.state != Suggestion.State.WITHDRAWN:
                context["problem"] = services.duplicate_message(existing)
                context["duplicate_url"] = _duplicate_url(existing)
    return render(request, f"{CLUB_PAGE}#link-feedback", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("organize")
def suggestion_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, suggestion = suggestion_for_editor(request, slug, pk)
    form = SuggestionEditForm(
        request.POST or None, instance=suggestion, organizer=access.is_organizer
    )
    if form.is_valid():
        try:
            services.edit_suggestion(
                suggestion=suggestion,
                pitch=form.cleaned_data["pitch"],
                takeaway=form.cleaned_data.get("takeaway"),
                details=form.club_details(),
            )
        except RuleViolation as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Suggestion saved.")
            return redirect(_where_shown(access.club, suggestion))
    context = {"club": access.club, "access": access, "suggestion": suggestion, "form": form}
    return render(request, "papers/suggestion_edit.html", context, status=form_status(form))


def _where_shown(club, suggestion) -> str:
    """Where a paper is on show: its row on the ballot while open, else the page of its
    latest session (chosen, or read), else the club page."""
    if suggestion.state == Suggestion.State.OPEN:
        return f"{club.get_absolute_url()}#suggestion-{suggestion.pk}"
    meeting = suggestion.meetings.order_by("-starts_at").first()
    return meeting.get_absolute_url() if meeting else club.get_absolute_url()


@require_POST
@login_required
@rate_limit("organize")
def suggestion_withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, suggestion = suggestion_for_editor(request, slug, pk)
    try:
        services.withdraw_suggestion(suggestion=suggestion)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{suggestion.display_title}” was taken off the list.")
    return redirect(access.club)


@require_POST
@login_required
@rate_limit("vote", where=lambda suggestion_pk, **_: f"#row-message-{suggestion_pk}")
def vote(request: HttpRequest, slug: str, pk: int, suggestion_pk: int) -> HttpResponse:
    """Vote for a candidate (approve=1) or take the vote back (approve=0).

    htmx gets the candidate's row back with the "votes left" line out of band, and a
    `voteCast` event; a refusal comes back as a message with status 409 (or 403/400),
    and nothing is written.
    """
    try:
        try:
            approve = approve_choice(request.POST)
        except RuleViolation:  # who asks is checked first: 404 or 403 before this 400
            vote_target(request, slug, pk, suggestion_pk)
            raise
        # A member voting in their club: read and cast in one statement. Anyone else gets
        # the access helpers' answer (404, 403) before anything is written.
        cast = votes.vote_as_member(
            user=request.user, slug=slug, poll_id=pk, suggestion_id=suggestion_pk, approve=approve
        )
        if cast is None:
            access, poll, suggestion = vote_target(request, slug, pk, suggestion_pk)
            ballot = votes.set_vote(
                poll=poll, membership=access.membership, suggestion=suggestion, approve=approve
            )
        else:
            access, poll, suggestion, ballot = cast
    except RuleViolation as error:  # nothing was written
        if not request.htmx:
            messages.error(request, error.message)
            return redirect(reverse("clubs:detail", args=[slug]) + "#ballot")
        return htmx_refusal(
            error.message, status=error.status, target=f"#row-message-{suggestion_pk}"
        )
    if not request.htmx:
        return redirect(f"{access.club.get_absolute_url()}#suggestion-{suggestion.pk}")
    # The paper's row again (a paper no longer on the list, withdrawn, leaves it) and, out
    # of band, the regions a vote changes beside it: one click is one request.
    answer = vote_answer(
        request, access, poll, suggestion, voted=approve, votes_used=ballot.votes_used
    )
    return trigger_client_event(HttpResponse(answer), "voteCast")


@require_POST
@login_required
@rate_limit("rank")
def ranking(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Replace the member's ranked ballot with the posted `order` (first choice first),
    or put the paper `add` at its end.

    The ranking's own buttons (up, down, remove) and the drag-and-drop script post the
    whole new order; "Rank" on a paper posts `add`, so a list that has not refreshed yet
    cannot undo an earlier choice. htmx gets the ranking back and a `rankingChanged` event.
    """
    access = club_for_member(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club)
    try:
        order = [int(value) for value in request.POST.getlist("order")]
        if "add" in request.POST:  # "Rank" on a paper: after whatever is ranked by now
            order = polls.ranking_of(poll=poll, membership=access.membership)
            added = int(request.POST["add"])
            order += [] if added in order else [added]
    except ValueError:
        order = None
    try:
        if order is None or len(order) > MAX_RANKED or not all(0 < pk < 2**63 for pk in order):
            raise RuleViolation("That ranking could not be read. Reload the page.", status=400)
        polls.set_ranking(poll=poll, membership=access.membership, order=order)
    except RuleViolation as error:
        if not request.htmx:
            messages.error(request, error.message)
            return redirect(f"{access.club.get_absolute_url()}#ballot")
        return htmx_refusal(
            error.message, status=error.status, target=_ranking_refusal_target(request)
        )
    if not request.htmx:
        return redirect(f"{access.club.get_absolute_url()}#ranking")
    response = render(request, f"{CLUB_PAGE}#ranking", ballot_context(access, poll))
    return trigger_client_event(response, "rankingChanged")


MAX_RANKED = 500  # more lines than any ballot has candidates: a forged request
ROW_ID = re.compile(r"[0-9]{1,18}")  # a row's id, as an ASCII number that fits 64 bits


def _ranking_refusal_target(request: HttpRequest) -> str:
    """Where a refused ranking change is shown: beside the button that asked for it ("Rank"
    on a paper, or a ranking line's arrows), else above the ballot (a drag)."""
    for name, region in (("add", "row-message"), ("line", "ranking-message")):
        value = request.POST.get(name, "")
        if ROW_ID.fullmatch(value):
            return f"#{region}-{int(value)}"
    return "#poll-message"


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("announce")
def poll_open(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    club = access.club
    with timezone.override(club.tz):
        form = PollForm(
            request.POST or None,
            initial={"closes_at": polls.default_poll_closing(club), "budget": 3},
        )
        if form.is_valid():
            try:
                polls.open_poll(club=club, opened_by=request.user, **form.cleaned_data)
            except RuleViolation as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "The poll is open. Members can vote on the club page.")
                return redirect(f"{club.get_absolute_url()}#ballot")
        return render(
            request, "papers/poll_form.html", {"club": club, "form": form}, status=form_status(form)
        )


@require_safe
def poll_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, poll = poll_for_reader(request, slug, pk)
    if not poll.is_closed and not poll.is_open():  # its deadline passed: count it now
        polls.close_due_polls(club=access.club)
        poll.refresh_from_db()
    context = {
        "club": access.club,
        "access": access,
        "poll": poll,
        "rule": TIE_BREAK_RULE,
    }
    if poll.is_ranked:
        label, about, _count = ranked.METHODS[poll.method]
        context["rule"] = f"{label}; on a tie, {RANKED_TIE_BREAK_RULE}."
        context["method_about"] = about
    if poll.is_closed:
        tallies = Tally.objects.filter(poll=poll).select_related(
            "suggestion__paper", "suggestion__suggested_by"
        )

        def result() -> dict:
            shown = {**context, "tallies": tallies, "meeting": getattr(poll, "meeting", None)}
            html = render_to_string("papers/poll_detail.html#result", shown)
            return {"html": html, "tallies": len(shown["tallies"])}

        # A closed poll's result is the same for every reader until an override, an edit of
        # its papers or a change to the session it scheduled.
        scopes = page_cache.Scopes(access.club.pk)
        (part,) = page_cache.get_many({scopes.key("poll-result", page_cache.ALL, poll.pk): result})
        context["result_html"] = mark_safe(part["html"])
        context["tallies"] = part["tallies"]
        if access.is_organizer:
            context["override_form"] = OverrideForm(poll=poll)
    elif poll.results_visible():
        candidates = Suggestion.objects.filter(club=access.club).backlog().with_people()
        if poll.is_ranked:
            candidates = candidates.with_first_choices(poll)
        else:
            candidates = candidates.with_vote_counts(poll)
        context["live"] = candidates.order_by("-vote_count", "created_at")
    return render(request, "papers/poll_detail.html", context)


@require_POST
@login_required
@rate_limit("announce")
def poll_close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = club_for_organizer(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club)
    try:
        poll = polls.close_poll(poll=poll, closed_by=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        if poll.winner:
            messages.success(request, f"The poll is closed: “{poll.winner.display_title}” won.")
        else:
            messages.info(request, "The poll is closed. No votes were cast, so no paper won.")
    return redirect(reverse("papers:poll", args=[access.club.slug, poll.pk]))


@require_POST
@login_required
@rate_limit("announce")
def poll_override(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = club_for_organizer(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club)
    form = OverrideForm(request.POST, poll=poll)
    if form.is_valid():
        try:
            polls.override_winner(
                poll=poll,
                suggestion=form.cleaned_data["suggestion"],
                overridden_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except RuleViolation as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The winner was changed and the reason recorded.")
    else:
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, f"The result was not changed: {errors}")
    return redirect(reverse("papers:poll", args=[access.club.slug, poll.pk]))


SEARCH_RESULTS = 25


@require_safe
def search(request: HttpRequest, slug: str) -> HttpResponse:
    """Find a paper of the club by title, author or arXiv ID, as you type (htmx)."""
    access = club_for_reader(request, slug)
    query = strip_control(request.GET.get("q", "")).strip()[:200]
    results = []
    if query:
        results = list(
            Suggestion.objects.filter(club=access.club)
            .exclude(state=Suggestion.State.WITHDRAWN)
            .matching(query)
            .select_related("paper")
            .order_by("shown_title", "id")[: SEARCH_RESULTS + 1]
        )
    context = {
        "club": access.club,
        "access": access,
        "query": query,
        "results": results[:SEARCH_RESULTS],
        "more": len(results) > SEARCH_RESULTS,
    }
    if request.htmx:
        return render(request, "papers/search.html#results", context)
    return render(request, "papers/search.html", context)


# ---------- Tracks ----------


@require_safe
def tracks(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_reader(request, slug)
    return _tracks_page(request, access, TrackForm() if access.is_organizer else None)


def _tracks_page(request: HttpRequest, access, form: TrackForm | None) -> HttpResponse:
    context = {
        "club": access.club,
        "access": access,
        "tracks": Track.objects.filter(club=access.club).with_progress().select_related("club"),
        "form": form,
    }
    status = form_status(form) if form is not None else 200
    return render(request, "papers/tracks.html", context, status=status)


@require_POST
@login_required
@rate_limit("organize")
def track_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    form = TrackForm(request.POST)
    if form.is_valid():
        try:
            track = services.create_track(club=access.club, **form.cleaned_data)
        except RuleViolation as error:
            form.add_error("title", error.message)
        else:
            messages.success(request, f"Track “{track.title}” created. Add its papers.")
            return redirect(track)
    return _tracks_page(request, access, form)


def _track_context(access, track: Track, **extra) -> dict:
    entries = list(
        TrackEntry.objects.filter(track=track).with_papers().with_read_by(access.membership)
    )
    next_entry = next((e for e in entries if e.suggestion.state != Suggestion.State.READ), None)
    return {
        "club": access.club,
        "access": access,
        "track": track,
        "entries": entries,
        "next_entry": next_entry,
        "club_read": sum(e.suggestion.state == Suggestion.State.READ for e in entries),
        "my_read": sum(bool(e.read_by_me) for e in entries),
        **extra,
    }


@require_safe
def track_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, track = track_for_reader(request, slug, pk)
    extra = {"add_form": TrackEntryAddForm(track=track)} if access.is_organizer else {}
    return render(request, "papers/track_detail.html", _track_context(access, track, **extra))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("organize")
def track_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, track = track_for_organizer(request, slug, pk)
    initial = {"title": track.title, "description": track.description}
    form = TrackForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            services.edit_track(track=track, **form.cleaned_data)
        except RuleViolation as error:
            form.add_error("title", error.message)
        else:
            messages.success(request, "Track saved.")
            return redirect(track)
    context = {"club": access.club, "access": access, "track": track, "form": form}
    return render(request, "papers/track_form.html", context, status=form_status(form))


@require_POST
@login_required
@rate_limit("organize")
def track_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, track = track_for_organizer(request, slug, pk)
    services.delete_track(track=track)
    messages.success(request, f"Track “{track.title}” deleted. Its papers stay on the list.")
    return redirect("papers:tracks", slug=access.club.slug)


@require_POST
@login_required
@rate_limit("organize")
def track_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, track = track_for_organizer(request, slug, pk)
    try:
        services.move_track(track=track, direction=request.POST.get("direction", ""))
    except RuleViolation as error:
        messages.error(request, error.message)
    return redirect(f"{reverse('papers:tracks', args=[access.club.slug])}#track-{track.pk}")


@require_POST
@login_required
@rate_limit("organize")
def track_entry_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, track = track_for_organizer(request, slug, pk)
    form = TrackEntryAddForm(request.POST, track=track)
    if form.is_valid():
        try:
            entry = services.add_to_track(
                track=track,
                suggestion=form.cleaned_data["suggestion"],
                summary=form.cleaned_data["summary"],
            )
        except RuleViolation as error:
            form.add_error("suggestion", error.message)
        else:
            messages.success(request, f"“{entry.suggestion.display_title}” added to the track.")
            return redirect(f"{track.get_absolute_url()}#entry-{entry.pk}")
    context = _track_context(access, track, add_form=form)
    return render(request, "papers/track_detail.html", context, status=form_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("organize")
def track_entry_edit(request: HttpRequest, slug: str, pk: int, entry_pk: int) -> HttpResponse:
    access, entry = track_entry_for_organizer(request, slug, pk, entry_pk)
    links = "\n".join(f"{link.label} {link.url}" for link in entry.suggestion.links.all())
    initial = {"summary": entry.summary, "further_reading": entry.further_reading, "links": links}
    form = TrackEntryForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            services.edit_track_entry(entry=entry, **form.cleaned_data)
        except RuleViolation as error:
            form.add_error("links", error.message)
        else:
            messages.success(request, "Saved.")
            return redirect(f"{entry.track.get_absolute_url()}#entry-{entry.pk}")
    context = {"club": access.club, "access": access, "entry": entry, "form": form}
    return render(request, "papers/track_entry_form.html", context, status=form_status(form))


@require_POST
@login_required
@rate_limit("organize")
def track_entry_move(request: HttpRequest, slug: str, pk: int, entry_pk: int) -> HttpResponse:
    _access, entry = track_entry_for_organizer(request, slug, pk, entry_pk)
    try:
        services.move_track_entry(entry=entry, direction=request.POST.get("direction", ""))
    except RuleViolation as error:
        messages.error(request, error.message)
    return redirect(f"{entry.track.get_absolute_url()}#entry-{entry.pk}")


@require_POST
@login_required
@rate_limit("organize")
def track_entry_remove(request: HttpRequest, slug: str, pk: int, entry_pk: int) -> HttpResponse:
    _access, entry = track_entry_for_organizer(request, slug, pk, entry_pk)
    services.remove_track_entry(entry=entry)
    messages.success(request, f"“{entry.suggestion.display_title}” taken out of the track.")
    return redirect(entry.track)


@require_POST
@login_required
@rate_limit("read_mark")
def read_mark(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A member marks a paper as read by them (read=1) or not (read=0).

    htmx gets the button back; without JavaScript, back to the page it came from.
    """
    access, suggestion = suggestion_for_member(request, slug, pk)
    read = request.POST.get("read") == "1"
    services.set_read_mark(membership=access.membership, suggestion=suggestion, read=read)
    if not request.htmx:
        return safe_redirect(
            request, request.POST.get("next"), fallback=access.club.get_absolute_url()
        )
    context = {"club": access.club, "access": access, "suggestion": suggestion, "read": read}
    return render(request, "papers/track_detail.html#read-button", context)


# ---------- Reading lists ----------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("import")
def reading_list_import(request: HttpRequest, slug: str) -> HttpResponse:
    """Paste or upload a list; the preview shows what would happen; "Import" writes it.

    The preview carries the list's text in the confirmation form with the person's choices
    (skipped lines ticked in, arXiv matches unticked, the discussion questions), and the
    import plans it again inside its transaction, so what is written matches the database.
    """
    access = club_for_organizer(request, slug)
    form = ImportForm(request.POST or None, request.FILES or None)
    plan = None
    include = _lines(request.POST.getlist("include"))
    reject = _lines(request.POST.getlist("offered_match")) - _lines(request.POST.getlist("match"))
    if form.is_valid():
        text, base_url = form.cleaned_data["text"], form.cleaned_data["base_url"]
        try:
            if request.POST.get("confirm") == "1":
                plan = import_reading_list(
                    club=access.club,
                    text=text,
                    imported_by=request.user,
                    base_url=base_url,
                    include=include,
                    reject_matches=reject,
                    apply_questions=request.POST.get("questions") == "1",
                )
                messages.success(request, _imported_message(plan))
                return redirect(access.club)
            plan = plan_import(
                club=access.club,
                text=text,
                base_url=base_url,
                include=include,
                reject_matches=reject,
            )
        except (ReadingListError, RuleViolation) as error:
            form.add_error(None, error.message)
        if plan is not None and plan.base_url and not base_url:
            # The list says where it lives: show that in the form, ready to change.
            form = ImportForm({"text": text, "base_url": plan.base_url})
            form.is_valid()
    context = {
        "club": access.club,
        "access": access,
        "form": form,
        "plan": plan,
        "text": form.cleaned_data.get("text", "") if plan else "",
        "base_url": plan.base_url if plan else "",
        "include": include,
        "reject": reject,
        "apply_questions": request.POST.get("questions") == "1",
    }
    return render(request, "papers/import.html", context, status=form_status(form))


LINE_NUMBER = re.compile(r"[0-9]{1,7}")  # ASCII digits only: str.isdigit() also takes "²"


def _lines(values: list[str]) -> frozenset[int]:
    """Line numbers posted by the preview's checkboxes; anything else is ignored."""
    return frozenset(int(v) for v in values[:5000] if LINE_NUMBER.fullmatch(v))


def _imported_message(plan) -> str:
    new = len(plan.new)
    parts = [f"Imported {new} paper{pluralize(new)}"]
    if plan.new_tracks:
        parts.append(f"{len(plan.new_tracks)} new track{pluralize(len(plan.new_tracks))}")
    if plan.skipped:
        parts.append(f"{len(plan.skipped)} line{pluralize(len(plan.skipped))} skipped")
    if plan.duplicates:
        parts.append(f"{len(plan.duplicates)} already on the list")
    return ", ".join(parts) + "."


@require_safe
def reading_list_markdown(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_reader(request, slug)
    text = club_markdown(access.club, absolute=_site_url)
    return _download(text, "text/markdown", f"{access.club.slug}-reading-list.md")


@require_safe
def reading_list_bibtex(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_reader(request, slug)
    text = club_bibtex(access.club, absolute=_site_url)
    return _download(text, "application/x-bibtex", f"{access.club.slug}-reading-list.bib")


def _site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _download(text: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
