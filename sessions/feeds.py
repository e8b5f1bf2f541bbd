"""The club's sessions as iCalendar (RFC 5545) and its posted notes as an Atom feed."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, format_html
from icalendar import Calendar, Event

from clubs.access import club_for_feed
from paperclub.output import web_url
from paperclub.text import one_line, strip_control
from sessions.models import Meeting

PRODID = "-//Paper Club//Sessions//EN"


# Identifiers. Calendar apps and feed readers match events and entries by these, so they
# never change for a session: a moved session keeps its UID (with a higher SEQUENCE).


def site_host() -> str:
    """The host of SITE_URL: identifiers name the site that minted them."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def event_uid(meeting: Meeting) -> str:
    """RFC 5545 UID, unique across the world: `session-15@paperclub.example.org`."""
    return f"session-{meeting.pk}@{site_host()}"


def tag_uri(date, specific: str) -> str:
    """An RFC 4151 tag URI (`tag:paperclub.example.org,2026-03-01:club/7/notes`); `date`
    is a day the site held the name, so the URI stays the same for good."""
    return f"tag:{site_host()},{date:%Y-%m-%d}:{specific}"


def notes_entry_id(meeting: Meeting) -> str:
    return tag_uri(meeting.created_at.date(), f"session/{meeting.pk}/notes")


def notes_feed_id(club) -> str:
    return tag_uri(club.created_at.date(), f"club/{club.pk}/notes")


def _papers(meeting: Meeting) -> list:
    """The session's papers, each as its club shows it (Suggestion.display_title)."""
    return list(meeting.suggestions.all())


def meeting_event(meeting: Meeting, absolute) -> Event:
    """One VEVENT. The UID is stable and SEQUENCE rises on every change, so a moved
    session updates in place and a cancelled one stays, marked CANCELLED."""
    papers = _papers(meeting)
    event = Event()
    event.add("uid", event_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.updated_at)
    event.add("last-modified", meeting.updated_at)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    titles = "; ".join(p.display_title for p in papers)
    event.add("summary", one_line(f"{meeting.club.name} #{meeting.number}: {titles}"))
    event.add("status", "CANCELLED" if meeting.state == Meeting.State.CANCELLED else "CONFIRMED")
    place_url = web_url(meeting.place_url)
    location = ", ".join(x for x in (meeting.place_name, place_url) if x)
    if location:
        event.add("location", one_line(location))
    url = absolute(meeting.get_absolute_url())
    event.add("url", url)
    # Text values are escaped by icalendar (";", ",", "\\", line breaks); each row is one line.
    rows = [f"{p.display_title} — {web_url(p.display_link)}" for p in papers]
    if place_url:
        rows.append(f"Join: {place_url}")
    rows += [f"{m.title}: {web_url(m.url)}" for m in meeting.materials.all() if web_url(m.url)]
    rows.append(f"Session page: {url}")
    event.add("description", "\n".join(one_line(row) for row in rows))
    return event


def calendar_bytes(name: str, meetings, absolute) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", one_line(name))
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, absolute))
    return calendar.to_ical()


class AtomWithContent(Atom1Feed):
    """Atom 1.0 with the summary as plain text and the full notes in <content type="html">.

    Django writes every summary as type="html", so a takeaway typed as plain text would be
    read as markup by feed readers; here it is sent as type="text". The content is HTML that
    was sanitized (nh3) when the notes were posted, with every other value escaped into it.
    """

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item.get("description"):
            handler.addQuickElement("summary", item["description"], {"type": "text"})
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


class NotesFeed(Feed):
    """Atom feed of a club's posted notes, newest first, with the sanitized notes as content."""

    feed_type = AtomWithContent

    def get_object(self, request, slug, token=None):
        return club_for_feed(request, slug, token)

    def title(self, club):
        return one_line(f"{club.name}: session notes")

    def subtitle(self, club):
        return strip_control(club.description) or f"Notes posted after each session of {club.name}."

    def link(self, club):
        return club.get_absolute_url()

    def items(self, club):
        return (
            Meeting.objects.filter(club=club, notes_posted_at__isnull=False)
            .order_by("-notes_posted_at")
            .with_papers()
            .prefetch_related("note_sections", "materials")[:30]
        )

    def item_title(self, meeting):
        titles = "; ".join(p.display_title for p in _papers(meeting))
        return one_line(f"#{meeting.number}: {titles}")

    def item_link(self, meeting):
        return meeting.get_absolute_url()

    def feed_guid(self, club):
        return notes_feed_id(club)

    def item_guid(self, meeting):
        return notes_entry_id(meeting)

    def item_guid_is_permalink(self, meeting):
        return False

    def item_pubdate(self, meeting):
        return meeting.notes_posted_at

    def item_updateddate(self, meeting):
        return meeting.updated_at

    def item_description(self, meeting):
        takeaways = [s.takeaway for s in meeting.suggestions.all() if s.takeaway]
        return one_line(" ".join(takeaways)) or f"Notes of session #{meeting.number}."

    def item_extra_kwargs(self, meeting):
        return {"content": strip_control(self._content(meeting))}

    def _content(self, meeting):
        # Section HTML was sanitized with nh3 when the notes were posted.
        parts = [
            format_html("<h3>{}</h3>", section.question) + section.html
            for section in meeting.note_sections.all()
        ]
        materials = [m for m in meeting.materials.all() if web_url(m.url)]
        if materials:
            items = "".join(
                format_html('<li><a href="{}">{}</a></li>', m.url, m.title) for m in materials
            )
            parts.append(f"<h3>Materials</h3><ul>{items}</ul>")
        return "".join(parts) or escape("(no notes)")
