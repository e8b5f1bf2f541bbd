"""Writes for sessions and their notes. Each runs in one transaction."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from clubs.models import Club
from paperclub import cache
from paperclub.errors import RuleViolation
from paperclub.markdown import render_markdown
from paperclub.text import checked_text, one_line
from paperclub.when import when_text
from papers.models import Paper, Suggestion
from papers.votes import release_votes
from sessions.models import (
    NOTES_MAX,
    Material,
    Meeting,
    NoteSection,
    PersonalFeed,
    Rsvp,
    SkippedWeek,
    new_personal_feed_token,
)
from sessions.tasks import announce, queue_notes_email, queue_session_reminder

State = Meeting.State


def touch_meeting(meeting: Meeting) -> None:
    """Record a change calendars must pick up: raise SEQUENCE (RFC 5545) and the timestamp."""
    Meeting.objects.filter(pk=meeting.pk).update(
        sequence=F("sequence") + 1, updated_at=timezone.now()
    )


def next_free_slot(club: Club, after: dt.datetime) -> dt.datetime:
    """The club's first weekly slot after `after` that is neither taken by a scheduled
    session nor in a skipped week."""
    taken = set(
        Meeting.objects.filter(club=club, state=State.SCHEDULED, starts_at__gt=after).values_list(
            "starts_at", flat=True
        )
    )
    skipped = set(SkippedWeek.objects.filter(club=club).values_list("day", flat=True))
    slot = club.next_slot_after(after)
    while slot in taken or slot.astimezone(club.tz).date() in skipped:
        slot = club.next_slot_after(slot)
    return slot


def coming_weeks(
    club: Club, count: int = 6, now: dt.datetime | None = None, poll=None
) -> list[dict]:
    """The club's next `count` weekly slots, each saying what it holds: its sessions (every
    one of that club-local day, in start order, each with its papers), "skipped", the open
    `poll` (whose winner takes the first free slot after it closes), or nothing yet.
    `holds` is "session", "skipped", "vote" or "free"."""
    now = now or timezone.now()
    slots, slot = [], club.next_slot_after(now - dt.timedelta(hours=1))
    for _ in range(count):
        slots.append(slot)
        slot = club.next_slot_after(slot)
    days = [s.astimezone(club.tz).date() for s in slots]
    skipped = set(SkippedWeek.objects.filter(club=club, day__in=days).values_list("day", flat=True))
    # One query for the sessions and their papers, read from the sessions so that a session
    # without a paper yet still shows: each row is one paper of a session, or the session
    # alone (a LEFT JOIN) when it has none.
    rows = (
        Meeting.objects.filter(
            club=club,
            # A session held an hour ago still fills its week.
            state__in=[State.SCHEDULED, State.HELD],
            starts_at__gte=slots[0] - dt.timedelta(days=3),
            starts_at__lte=slots[-1] + dt.timedelta(days=3),
        )
        .order_by("starts_at", "pk", "suggestions__pk")
        .values_list(
            "pk",
            "number",
            "starts_at",
            "suggestions__pk",
            "suggestions__title",
            "suggestions__paper__pk",
            "suggestions__paper__title",
        )
    )
    sessions: dict[int, dict] = {}
    by_day: dict[dt.date, list[dict]] = {}
    for pk, number, starts_at, s_pk, s_title, paper_pk, paper_title in rows:
        if pk not in sessions:
            # Only what a week's line shows is loaded: number, start, papers.
            sessions[pk] = {
                "meeting": Meeting(pk=pk, club=club, number=number, starts_at=starts_at),
                "papers": [],
            }
            by_day.setdefault(starts_at.astimezone(club.tz).date(), []).append(sessions[pk])
        if s_pk is not None:
            sessions[pk]["papers"].append(
                Suggestion(pk=s_pk, title=s_title, paper=Paper(pk=paper_pk, title=paper_title))
            )
    weeks = []
    poll_closes = None if poll is None else max(poll.closes_at or now, now)
    for s, d in zip(slots, days, strict=True):
        if d in by_day:
            holds = "session"
        elif d in skipped:
            holds = "skipped"
        elif poll_closes is not None and s > poll_closes:
            holds, poll_closes = "vote", None  # only the first free week after it closes
        else:
            holds = "free"
        weeks.append(
            {
                "starts_at": s,
                "day": d,
                "skipped": d in skipped,
                # Every session of that day, in start order, each with its papers.
                "sessions": by_day.get(d, []),
                "holds": holds,
                "poll": poll if holds == "vote" else None,
            }
        )
    return weeks


@transaction.atomic
def skip_week(*, club: Club, day: dt.date) -> SkippedWeek:
    """No session in the week of `day` (one of the club's coming weekly slots).

    Refused while a session is scheduled that day: move or cancel it first.
    Side effects: one SkippedWeek row.
    """
    cache.bump(cache.sessions_scope(club.pk))
    week = next((w for w in coming_weeks(club, count=26) if w["day"] == day), None)
    if week is None:
        raise RuleViolation("Pick one of the club's coming meeting days.", status=400)
    if week["sessions"]:
        raise RuleViolation(
            f"Session #{week['sessions'][0]['meeting'].number} is scheduled that day. "
            "Move or cancel it first."
        )
    skipped, _ = SkippedWeek.objects.get_or_create(club=club, day=day)
    return skipped


@transaction.atomic
def unskip_week(*, club: Club, day: dt.date) -> None:
    """Meet again in a week that was skipped. Side effects: deletes the SkippedWeek row."""
    cache.bump(cache.sessions_scope(club.pk))
    SkippedWeek.objects.filter(club=club, day=day).delete()


def _check_papers(club: Club, suggestions) -> list[Suggestion]:
    suggestions = list(suggestions)
    if not suggestions:
        raise RuleViolation("A session needs at least one paper.", status=400)
    if any(s.club_id != club.pk for s in suggestions):
        raise RuleViolation("Every paper must be on this club's list.", status=400)
    return suggestions


@transaction.atomic
def schedule_meeting(
    *,
    club: Club,
    suggestions,
    source: str = Meeting.Source.ORGANIZER,
    starts_at: dt.datetime | None = None,
    after: dt.datetime | None = None,
    duration: dt.timedelta | None = None,
    place_name: str | None = None,
    place_url: str | None = None,
    presenters=(),
    poll=None,
) -> Meeting:
    """Schedule a session, numbered next in the club.

    Without `starts_at` it takes the club's next free weekly slot after `after` (now).
    Place and duration default to the club's. The papers become "chosen", and their votes
    in unclosed polls go back to the voters (papers.votes.release_votes).
    Side effects: one Meeting row with its papers and presenters; Suggestion.state; the
    reminder email queued for a day before; the club's webhook told.
    """
    cache.bump(cache.sessions_scope(club.pk), cache.ballot_scope(club.pk))
    club = Club.objects.select_for_update().get(pk=club.pk)  # numbers are handed out one by one
    suggestions = _check_papers(club, suggestions)
    if source not in Meeting.Source.values:
        raise RuleViolation("Unknown way of choosing the paper.", status=400)
    if starts_at is None:
        starts_at = next_free_slot(club, after or timezone.now())
    number = (Meeting.objects.filter(club=club).aggregate(n=Max("number"))["n"] or 0) + 1
    meeting = Meeting.objects.create(
        club=club,
        number=number,
        starts_at=starts_at,
        duration=duration or dt.timedelta(minutes=club.meeting_duration),
        place_name=club.place_name if place_name is None else _place(place_name),
        place_url=club.place_url if place_url is None else place_url,
        source=source,
        poll=poll,
    )
    meeting.suggestions.set(suggestions)
    meeting.presenters.set(presenters)
    chosen = [s.pk for s in suggestions]
    Suggestion.objects.filter(pk__in=chosen, state=Suggestion.State.OPEN).update(
        state=Suggestion.State.CHOSEN
    )
    release_votes(suggestion_ids=chosen)  # off the ballot: their voters may vote again
    queue_session_reminder(meeting)
    announce(club, f"Session scheduled: {_describe(meeting)}")
    return meeting


def _place(name: str) -> str:
    return checked_text(name, max_length=120, label="The place")


def _describe(meeting: Meeting) -> str:
    papers = "; ".join(s.display_title for s in meeting.suggestions.select_related("paper"))
    # Posted to the whole club's channel: in the club's own time.
    when = when_text(meeting.starts_at, viewer=meeting.club.tz)
    return f"#{meeting.number} {papers}, {when} {settings.SITE_URL}{meeting.get_absolute_url()}"


@transaction.atomic
def update_meeting(
    *,
    meeting: Meeting,
    starts_at: dt.datetime,
    duration: dt.timedelta,
    place_name: str,
    place_url: str,
    presenters,
) -> Meeting:
    """Move a session or change its place and presenters.

    Side effects: updates the Meeting and its presenters.
    """
    cache.bump(cache.sessions_scope(meeting.club_id), cache.ballot_scope(meeting.club_id))
    if meeting.state == State.CANCELLED:
        raise RuleViolation("This session was cancelled.")
    moved = meeting.starts_at != starts_at
    meeting.starts_at = starts_at
    meeting.duration = duration
    meeting.place_name = _place(place_name)
    meeting.place_url = place_url
    meeting.save(update_fields=["starts_at", "duration", "place_name", "place_url", "updated_at"])
    meeting.presenters.set(presenters)
    touch_meeting(meeting)
    if moved:
        queue_session_reminder(meeting)  # the one queued for the old time will stand down
        announce(meeting.club, f"Session moved: {_describe(meeting)}")
    return meeting


@transaction.atomic
def cancel_meeting(*, meeting: Meeting) -> Meeting:
    """Cancel a scheduled session; its papers go back on the club's list.

    Side effects: Meeting.state = cancelled; chosen papers become open again.
    """
    cache.bump(cache.sessions_scope(meeting.club_id), cache.ballot_scope(meeting.club_id))
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state != State.SCHEDULED:
        raise RuleViolation("Only a scheduled session can be cancelled.")
    meeting.state = State.CANCELLED
    meeting.save(update_fields=["state", "updated_at"])
    touch_meeting(meeting)
    meeting.suggestions.filter(state=Suggestion.State.CHOSEN).update(state=Suggestion.State.OPEN)
    announce(meeting.club, f"Session cancelled: {_describe(meeting)}")
    return meeting


def _write_sections(meeting: Meeting, bodies: list[str]) -> None:
    """Replace the session's notes with `bodies`, one per question, rendered and sanitized."""
    if meeting.state == State.CANCELLED:
        raise RuleViolation("This session was cancelled; there is nothing to take notes on.")
    questions = questions_for(meeting)
    if len(bodies) != len(questions):
        raise RuleViolation("The notes do not match the club's discussion questions.", status=400)
    bodies = [
        checked_text(body, max_length=NOTES_MAX, label="The notes", multiline=True)
        for body in bodies
    ]
    if not any(bodies):
        raise RuleViolation("Write something under at least one question.", status=400)
    meeting.note_sections.all().delete()
    NoteSection.objects.bulk_create(
        NoteSection(
            meeting=meeting, position=i, question=question, body=body, html=render_markdown(body)
        )
        for i, (question, body) in enumerate(zip(questions, bodies, strict=True))
    )


def _check_takeaways(meeting: Meeting, takeaways: dict[int, str]) -> dict[int, str]:
    papers = {s.pk for s in meeting.suggestions.all()}
    if any(pk not in papers for pk in takeaways):
        raise RuleViolation("A takeaway names a paper this session did not read.", status=400)
    return {
        pk: checked_text(text, max_length=200, label="The takeaway")
        for pk, text in takeaways.items()
    }


def _locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("club").get(pk=meeting.pk)


def may_publish_notes(meeting: Meeting, now: dt.datetime | None = None) -> bool:
    """Notes publish once the session has started: until then it has not been held."""
    return meeting.starts_at <= (now or timezone.now())


def publish_time(meeting: Meeting) -> str:
    """When the notes can be published, in the viewer's time with the club's beside."""
    return when_text(meeting.starts_at, club_zone=meeting.club.tz)


@transaction.atomic
def save_notes_draft(
    *, meeting: Meeting, author, bodies: list[str], takeaways: dict[int, str]
) -> Meeting:
    """Save the notes without publishing them, at any time before or after the session.

    A draft is seen only by the organizers and the session's presenters; nothing is sent
    and the session stays as it is. Saving a draft of notes already published is refused:
    published notes are edited by publishing again.
    Side effects: NoteSection rows (rendered, sanitized HTML), Meeting.draft_takeaways.
    """
    cache.bump(cache.sessions_scope(meeting.club_id))
    meeting = _locked(meeting)
    if meeting.notes_posted_at is not None:
        raise RuleViolation("These notes are published; save your changes with “Publish”.")
    _write_sections(meeting, bodies)
    meeting.draft_takeaways = {
        str(pk): text for pk, text in _check_takeaways(meeting, takeaways).items()
    }
    meeting.save(update_fields=["draft_takeaways", "updated_at"])
    return meeting


@transaction.atomic
def post_notes(
    *, meeting: Meeting, author, bodies: list[str], takeaways: dict[int, str]
) -> Meeting:
    """Publish the notes under each discussion question and the papers' one-line takeaways.

    Only once the session has started (before that, save a draft). Publishing marks the
    session held and its papers read; publishing again edits the notes.
    `bodies` are Markdown, one per question in `questions_for(meeting)`.
    Side effects: NoteSection rows (rendered, sanitized HTML), Meeting.state/notes_posted_*,
    Meeting.draft_takeaways emptied, Suggestion.state/takeaway, SEQUENCE raised; the first
    time, the notes email queued and the club's webhook told.
    """
    cache.bump(cache.sessions_scope(meeting.club_id), cache.ballot_scope(meeting.club_id))
    meeting = _locked(meeting)
    if meeting.state != State.CANCELLED and not may_publish_notes(meeting):
        raise RuleViolation(
            f"The notes can be published once the session has started, {publish_time(meeting)}."
            " Until then, save them as a draft."
        )
    _write_sections(meeting, bodies)
    takeaways = _check_takeaways(meeting, takeaways)
    papers = list(meeting.suggestions.all())
    for suggestion in papers:
        if suggestion.pk in takeaways:
            suggestion.takeaway = takeaways[suggestion.pk]
        suggestion.state = Suggestion.State.READ
    Suggestion.objects.bulk_update(papers, ["takeaway", "state"])
    if meeting.notes_posted_at is None:
        meeting.notes_posted_at = timezone.now()
        meeting.notes_posted_by = author
        queue_notes_email(meeting)
        announce(meeting.club, f"Notes posted: {_describe(meeting)}")
    meeting.state = State.HELD
    meeting.draft_takeaways = {}
    meeting.save(
        update_fields=[
            "state",
            "notes_posted_at",
            "notes_posted_by",
            "draft_takeaways",
            "updated_at",
        ]
    )
    touch_meeting(meeting)
    return meeting


@transaction.atomic
def set_materials(
    *, meeting: Meeting, links: list[tuple[str, str, str]], recorded: bool
) -> Meeting:
    """Replace the session's labeled links with `links` ((kind, url, label) each).

    Side effects: Material rows replaced; Meeting.recorded; SEQUENCE raised.
    """
    cache.bump(cache.sessions_scope(meeting.club_id))
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state == State.CANCELLED:
        raise RuleViolation("This session was cancelled.")
    kinds = set(Material.Kind.values)
    if any(kind not in kinds for kind, _, _ in links):
        raise RuleViolation("Unknown kind of material.", status=400)
    urls = [url for _, url, _ in links]
    if len(urls) != len(set(urls)):
        raise RuleViolation("The same link is listed twice.", status=400)
    meeting.materials.all().delete()
    Material.objects.bulk_create(
        Material(meeting=meeting, kind=kind, url=url, label=one_line(label)[:120])
        for kind, url, label in links
    )
    meeting.recorded = recorded
    meeting.save(update_fields=["recorded", "updated_at"])
    touch_meeting(meeting)
    return meeting


@transaction.atomic
def set_rsvp(*, meeting: Meeting, membership, answer: str) -> Rsvp:
    """A member says going / maybe / not going. Answering again changes the answer.

    Open until the session ends (Meeting.rsvp_open), even once its notes marked it held.

    Side effects: one Rsvp row created or updated.
    """
    cache.bump(cache.sessions_scope(meeting.club_id))
    if answer not in {Rsvp.Answer.GOING, Rsvp.Answer.MAYBE, Rsvp.Answer.NOT_GOING}:
        raise RuleViolation("Answer going, maybe or not going.", status=400)
    if membership.club_id != meeting.club_id:
        raise RuleViolation("Only members of this club can answer.", status=403)
    meeting = Meeting.objects.get(pk=meeting.pk)
    if not meeting.rsvp_open:
        raise RuleViolation("This session is no longer open for answers.")
    rsvp, _ = Rsvp.objects.update_or_create(
        meeting=meeting,
        membership=membership,
        defaults={"answer": answer, "answered_at": timezone.now()},
    )
    return rsvp


@transaction.atomic
def mark_attendance(*, meeting: Meeting, attended_memberships) -> int:
    """Organizers record who came, once the session has started. Returns how many came.

    Side effects: Rsvp.attended for every member of the club (rows created as needed).
    """
    cache.bump(cache.sessions_scope(meeting.club_id))
    if meeting.state == State.CANCELLED:
        raise RuleViolation("This session was cancelled.")
    if meeting.starts_at > timezone.now():
        raise RuleViolation("Attendance can be taken once the session has started.")
    came = {m.pk for m in attended_memberships}
    members = meeting.club.memberships.all()
    if not came <= {m.pk for m in members}:
        raise RuleViolation("Only members of this club can attend.", status=400)
    for membership in members:
        Rsvp.objects.update_or_create(
            meeting=meeting, membership=membership, defaults={"attended": membership.pk in came}
        )
    return len(came)


def questions_for(meeting: Meeting) -> list[str]:
    """The questions the notes answer: those already posted, else the club's current ones."""
    posted = [section.question for section in meeting.note_sections.all()]
    return posted or list(meeting.club.discussion_questions)


def personal_feed(user) -> PersonalFeed:
    """The member's personal calendar feed, made the first time it is asked for.

    Side effects: one PersonalFeed row, the first time.
    """
    feed, _ = PersonalFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def reset_personal_feed(*, user) -> PersonalFeed:
    """A new secret for the member's personal calendar; the old URL stops working.

    Side effects: PersonalFeed.token (the row is made if there was none).
    """
    feed, _ = PersonalFeed.objects.select_for_update().get_or_create(user=user)
    feed.token = new_personal_feed_token()
    feed.save(update_fields=["token"])
    return feed
