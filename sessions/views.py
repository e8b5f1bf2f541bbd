import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass

from django.contrib import messages
from django.core.cache import cache
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clubs.access import (
    club_for_feed,
    club_for_member,
    club_for_organizer,
    club_for_reader,
    is_feed_token,
)
from clubs.models import Club, Membership
from clubs.services import reset_feed_token
from paperclub import cache as page_cache
from paperclub.errors import RuleViolation
from paperclub.http import form_status, htmx_refusal, login_required, more_rows, page_number
from paperclub.markdown import render_markdown
from paperclub.ratelimit import rate_limit
from sessions import services
from sessions.access import (
    may_write_notes,
    meeting_for_member,
    meeting_for_note_taker,
    meeting_for_organizer,
    meeting_for_reader,
    with_papers,
)
from sessions.feeds import calendar_bytes
from sessions.forms import AttendanceForm, MaterialsForm, MeetingForm, NotesForm
from sessions.models import Meeting, PersonalFeed, Rsvp


@require_safe
def timeline(request: HttpRequest, slug: str) -> HttpResponse:
    """The club's sessions, newest first, 20 at a time: the rest load as they scroll into
    view (htmx), or with "Show more" without JavaScript. The list is the same for every
    viewer: cached (paperclub.cache) until the club's sessions or papers change."""
    access = club_for_reader(request, slug)
    club = access.club
    page = page_number(request)
    more = bool(request.htmx and request.htmx.target == "more-sessions")

    def build() -> dict:
        meetings = Meeting.objects.filter(club=club).timeline()
        rows = more_rows(meetings, page, size=TIMELINE_PAGE, cumulative=not more)
        html = render_to_string("sessions/timeline.html#timeline-page", {"club": club, **rows})
        return {"html": html, "any": bool(rows["shown"])}

    scopes = page_cache.Scopes(club.pk)
    (part,) = page_cache.get_many({scopes.key("timeline", page_cache.ALL, page, more): build})
    if more:
        return HttpResponse(part["html"])
    context = {
        "club": club,
        "access": access,
        "timeline_html": mark_safe(part["html"]),
        "any_sessions": part["any"],
    }
    return render(request, "sessions/timeline.html", context)


TIMELINE_PAGE = 20


@dataclass(frozen=True)
class Answer:
    """One member's RSVP, as the session page shows it (kept in the page cache)."""

    membership_id: int
    answer: str
    attended: bool
    name: str


def _answers(meeting: Meeting) -> list[Answer]:
    rsvps = Rsvp.objects.filter(meeting=meeting).select_related("membership__user")
    return [Answer(r.membership_id, r.answer, r.attended, str(r.membership.user)) for r in rsvps]


def _answers_key(scopes: page_cache.Scopes, meeting: Meeting) -> str:
    return scopes.key("rsvps", ("sessions",), meeting.pk)


def rsvp_context(access, meeting: Meeting, rsvps: list[Answer] | None = None) -> dict:
    """Answers, counts and who is coming, from the session's RSVPs (`rsvps`, else read
    here): one query, kept in the page cache until the club's sessions change (an answer,
    attendance, a member's name, a member leaving all bump them)."""
    if rsvps is None:
        scopes = page_cache.Scopes(access.club.pk)
        (rsvps,) = page_cache.get_many({_answers_key(scopes, meeting): lambda: _answers(meeting)})
    mine = None
    if access.membership is not None:
        mine = next((r for r in rsvps if r.membership_id == access.membership.pk), None)
    return {
        "club": access.club,
        "access": access,
        "meeting": meeting,
        "rsvps": rsvps,
        "rsvp_counts": Counter(r.answer for r in rsvps),
        "my_answer": mine.answer if mine else "",
        # Who is coming is for members' eyes only.
        "coming": [r for r in rsvps if r.answer in ("going", "maybe")] if access.is_member else [],
        "answers": Rsvp.Answer.choices,
    }


SHARED_PARTS = ("papers", "presenters", "notes", "materials")  # of the session page


@require_safe
def meeting_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    access, meeting = meeting_for_reader(request, slug, number)
    can_write = may_write_notes(access, presents=meeting.viewer_presents)
    # A draft is the note takers' own until it is published.
    show_sections = meeting.has_notes or can_write

    def shared_parts() -> dict:
        # The same for everyone who may see them: cached until the club's papers or
        # sessions change (a paper's edit, a presenter's new name, notes, materials).
        shown = {
            "club": access.club,
            "meeting": with_papers(meeting),
            "sections": list(meeting.note_sections.all()) if show_sections else [],
            "materials": list(meeting.materials.all()),
        }
        parts = {
            name: render_to_string(f"sessions/meeting_detail.html#session-{name}", shown)
            for name in SHARED_PARTS
        }
        return {**parts, "has_sections": bool(shown["sections"])}

    scopes = page_cache.Scopes(access.club.pk)
    rsvps, parts = page_cache.get_many(
        {
            _answers_key(scopes, meeting): lambda: _answers(meeting),
            scopes.key("session-parts", page_cache.ALL, meeting.pk, show_sections): shared_parts,
        }
    )
    context = {
        **rsvp_context(access, meeting, rsvps),
        "parts": {name: mark_safe(parts[name]) for name in SHARED_PARTS},
        "has_sections": parts["has_sections"],
        "can_write_notes": can_write,
    }
    started = meeting.starts_at <= timezone.now()
    if access.is_organizer and started and meeting.state != Meeting.State.CANCELLED:
        context["attendance_form"] = AttendanceForm(meeting=meeting, rsvps=context["rsvps"])
        # The vote for next week is offered at the end of the club's latest session.
        if not meeting.later_started:
            context["live_vote_url"] = reverse("papers:live_new", args=[access.club.slug])
    return render(request, "sessions/meeting_detail.html", context)


@require_POST
@login_required
@rate_limit("rsvp")
def rsvp(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    access, meeting = meeting_for_member(request, slug, number)
    try:
        services.set_rsvp(
            meeting=meeting, membership=access.membership, answer=request.POST.get("answer", "")
        )
    except RuleViolation as error:
        if request.htmx:
            return htmx_refusal(error.message, status=error.status, target="#rsvp-message")
        messages.error(request, error.message)
    if not request.htmx:
        return redirect(meeting)
    return render(request, "sessions/meeting_detail.html#rsvp", rsvp_context(access, meeting))


@require_POST
@login_required
@rate_limit("organize")
def attendance(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    _, meeting = meeting_for_organizer(request, slug, number)
    form = AttendanceForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            came = services.mark_attendance(
                meeting=meeting, attended_memberships=form.cleaned_data["attended"]
            )
        except RuleViolation as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Attendance saved: {came} came.")
    else:
        messages.error(request, "Attendance was not saved: choose members of this club.")
    return redirect(meeting)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("organize")
def materials_edit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    access, meeting = meeting_for_note_taker(request, slug, number)
    form = MaterialsForm(request.POST or None, meeting=meeting)
    if form.is_valid():
        try:
            services.set_materials(
                meeting=meeting, links=form.links(), recorded=form.cleaned_data["recorded"]
            )
        except RuleViolation as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Materials saved.")
            return redirect(meeting)
    context = {"club": access.club, "meeting": meeting, "form": form}
    return render(request, "sessions/materials_form.html", context, status=form_status(form))


@require_safe
def meeting_calendar(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """One session as an .ics download ("add to calendar")."""
    access, meeting = meeting_for_reader(request, slug, number)
    with_papers(meeting)
    body = calendar_bytes(
        f"{access.club.name} #{meeting.number}", [meeting], request.build_absolute_uri
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    filename = f"{access.club.slug}-session-{meeting.number}.ics"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def club_calendar(request: HttpRequest, slug: str, token: str | None = None) -> HttpResponse:
    """The club's subscribable calendar: every session, cancelled ones marked so."""
    club = club_for_feed(request, slug, token)
    meetings = Meeting.objects.filter(club=club)
    return calendar_response(request, club.name, meetings, (club.pk, club.name, club.time_zone))


@require_safe
def personal_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """One member's calendar: the sessions of every club they belong to, private ones too.
    The secret token is the credential (calendar apps carry no cookies)."""
    if not is_feed_token(token):
        raise Http404("No such feed.")
    feed = get_object_or_404(PersonalFeed.objects.select_related("user"), token=token)
    clubs = tuple(
        Membership.objects.filter(user=feed.user)
        .order_by("club_id")
        .values_list("club_id", "club__name")
    )
    meetings = Meeting.objects.filter(club__in=[pk for pk, _ in clubs])
    name = f"Paper Club: {feed.user}"
    return calendar_response(request, name, meetings, ("personal", feed.pk, clubs))


def calendar_response(request: HttpRequest, name: str, meetings, scope) -> HttpResponse:
    """An iCalendar of `meetings`, built once per version of them (any change to a session
    moves its updated_at, and SEQUENCE with it; a new one the count) and of `scope`
    (whatever else the calendar shows, such as club names)."""
    version = meetings.aggregate(changed=Max("updated_at"), count=Count("pk"))
    key = (
        "calendar:"
        + hashlib.sha256(
            repr((scope, name, request.get_host(), *version.values())).encode()
        ).hexdigest()
    )
    etag = f'"{key[-32:]}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    body = cache.get(key)
    if body is None:
        newest = (
            meetings.order_by("-starts_at")
            .select_related("club")
            .with_papers()
            .prefetch_related("materials")
        )
        body = calendar_bytes(name, newest[:500], request.build_absolute_uri)
        cache.set(key, body, CALENDAR_CACHE_SECONDS)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    return response


CALENDAR_CACHE_SECONDS = 600  # and rebuilt at once when a session changes


@require_safe
@login_required
def my_calendar(request: HttpRequest) -> HttpResponse:
    """How to subscribe to one's personal calendar of all one's clubs' sessions."""
    feed = services.personal_feed(request.user)
    clubs = Club.objects.filter(memberships__user=request.user).order_by("name")
    feed_path = reverse("meetings:personal_calendar", args=[feed.token])
    return render(request, "sessions/my_calendar.html", {"feed_path": feed_path, "clubs": clubs})


@require_POST
@login_required
@rate_limit("settings")
def personal_feed_reset(request: HttpRequest) -> HttpResponse:
    services.reset_personal_feed(user=request.user)
    messages.success(
        request, "Your calendar link was reset: the old one stopped working. Subscribe again."
    )
    return redirect("meetings:my_calendar")


@require_POST
@login_required
@rate_limit("settings")
def feed_token_reset(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_member(request, slug)
    reset_feed_token(membership=access.membership)
    messages.success(request, "Your feed links were reset. Subscribe again with the new ones.")
    return redirect(access.club)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("announce")
def meeting_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    club = access.club
    with timezone.override(club.tz):
        initial = {
            "starts_at": services.next_free_slot(club, timezone.now()),
            "duration": club.meeting_duration,
            "place_name": club.place_name,
            "place_url": club.place_url,
        }
        form = MeetingForm(request.POST or None, club=club, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            try:
                meeting = services.schedule_meeting(
                    club=club,
                    suggestions=data["suggestions"],
                    source=data["source"],
                    **form.slot(),
                )
            except RuleViolation as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Session #{meeting.number} is scheduled.")
                return redirect(meeting)
        context = {"club": club, "form": form, "meeting": None}
        return render(request, "sessions/meeting_form.html", context, status=form_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("organize")
def meeting_edit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    access, meeting = meeting_for_organizer(request, slug, number)
    club = access.club
    with timezone.override(club.tz):
        initial = {
            "starts_at": meeting.starts_at,
            "duration": meeting.duration_minutes,
            "place_name": meeting.place_name,
            "place_url": meeting.place_url,
            "presenters": list(meeting.presenters.all()),
        }
        form = MeetingForm(request.POST or None, club=club, editing=True, initial=initial)
        if form.is_valid():
            try:
                services.update_meeting(meeting=meeting, **form.slot())
            except RuleViolation as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Session #{meeting.number} saved.")
                return redirect(meeting)
        context = {"club": club, "form": form, "meeting": meeting}
        return render(request, "sessions/meeting_form.html", context, status=form_status(form))


@require_POST
@login_required
@rate_limit("announce")
def meeting_cancel(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    _, meeting = meeting_for_organizer(request, slug, number)
    try:
        services.cancel_meeting(meeting=meeting)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Session #{meeting.number} is cancelled; its papers are back on the list."
        )
    return redirect(meeting)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("organize")
def notes_edit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Write the notes. "Preview" renders them (sanitized) without saving; "Save draft"
    keeps them private to the note takers; "Publish" (once the session has started)
    shows them to the club and marks the session held."""
    access, meeting = meeting_for_note_taker(request, slug, number)
    questions = services.questions_for(meeting)
    papers = list(meeting.suggestions.all())
    initial = {f"q{s.position}": s.body for s in meeting.note_sections.all()}
    initial |= {f"takeaway{pk}": text for pk, text in meeting.draft_takeaways.items()}
    form = NotesForm(request.POST or None, questions=questions, suggestions=papers, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = [
                (q, render_markdown(body)) for q, body in zip(questions, form.bodies(), strict=True)
            ]
        else:
            publish = "publish" in request.POST
            write = services.post_notes if publish else services.save_notes_draft
            try:
                write(
                    meeting=meeting,
                    author=request.user,
                    bodies=form.bodies(),
                    takeaways=form.takeaways(),
                )
            except RuleViolation as error:
                form.add_error(None, error.message)
            else:
                if publish:
                    messages.success(request, "The notes are published.")
                else:
                    messages.success(
                        request, "Draft saved. Only organizers and presenters can see it."
                    )
                return redirect(meeting)
    context = {
        "club": access.club,
        "meeting": meeting,
        "form": form,
        "preview": preview,
        "may_publish": services.may_publish_notes(meeting),
        "publish_time": services.publish_time(meeting),
    }
    if request.htmx and "preview" in request.POST:
        return render(request, "sessions/notes_form.html#preview", context)
    return render(request, "sessions/notes_form.html", context, status=form_status(form))


@require_POST
@login_required
@rate_limit("organize")
def week_skip(request: HttpRequest, slug: str) -> HttpResponse:
    """Skip a coming week (or meet again in a skipped one). The weekly slot stays."""
    access = club_for_organizer(request, slug)
    try:
        day = dt.date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        messages.error(request, "Pick one of the club's coming meeting days.")
        return redirect(access.club)
    if request.POST.get("action") == "unskip":
        services.unskip_week(club=access.club, day=day)
        messages.success(request, f"The club meets again on {day:%a %d %b}.")
        return redirect(access.club)
    try:
        services.skip_week(club=access.club, day=day)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"No session on {day:%a %d %b}. The weekly slot stays.")
    return redirect(access.club)
