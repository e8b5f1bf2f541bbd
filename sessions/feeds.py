"""The club's sessions as iCalendar (RFC 5545) and its posted notes as an Atom feed."""

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, format_html
from icalendar import Calendar, Event

from clubs.access import club_for_feed
from paperclub.text import strip_control
from sessions.models import Meeting

PRODID = "-//Paper Club//Sessions//EN"


def _line(text: str) -> str:
    """One line of text for an iCalendar property: no control characters, no line breaks."""
    return " ".join(strip_control(text).split())


def _papers(meeting: Meeting) -> list:
    """The session's papers, each as its club shows it (Suggestion.display_title)."""
    return list(meeting.suggestions.all())


def meeting_event(meeting: Meeting, absolute) -> Event:
    """One VEVENT. The UID is stable and SEQUENCE rises on every change, so a moved
    session updates in place and a cancelled one stays, marked CANCELLED."""
    papers = _papers(meeting)
    event = Event()
    event.add("uid", f"session-{meeting.pk}@paperclub")
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.updated_at)
    event.add("last-modified", meeting.updated_at)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    titles = "; ".join(p.display_title for p in papers)
    event.add("summary", _line(f"{meeting.club.name} #{meeting.number}: {titles}"))
    event.add("status", "CANCELLED" if meeting.state == Meeting.State.CANCELLED else "CONFIRMED")
    location = ", ".join(x for x in (meeting.place_name, meeting.place_url) if x)
    if location:
        event.add("location", _line(location))
    url = absolute(meeting.get_absolute_url())
    event.add("url", url)
    lines = [f"{p.display_title} — {p.display_link}" for p in papers]
    if meeting.place_url:
        lines.append(f"Join: {meeting.place_url}")
    lines += [f"{m.title}: {m.url}" for m in meeting.materials.all()]
    lines.append(f"Session page: {url}")
    event.add("description", strip_control("\n".join(lines)))
    return event


def calendar_bytes(name: str, meetings, absolute) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _line(name))
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, absolute))
    return calendar.to_ical()


class AtomWithContent(Atom1Feed):
    """Atom 1.0 with the full notes in <content type="html"> (Django writes only <summary>)."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


class NotesFeed(Feed):
    """Atom feed of a club's posted notes, newest first, with the sanitized notes as content."""

    feed_type = AtomWithContent

    def get_object(self, request, slug, token=None):
        return club_for_feed(request, slug, token)

    def title(self, club):
        return strip_control(f"{club.name}: session notes")

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
        return strip_control(f"#{meeting.number}: {titles}")

    def item_link(self, meeting):
        return meeting.get_absolute_url()

    def item_guid(self, meeting):
        return f"session-{meeting.pk}-notes@paperclub"

    def item_guid_is_permalink(self, meeting):
        return False

    def item_pubdate(self, meeting):
        return meeting.notes_posted_at

    def item_updateddate(self, meeting):
        return meeting.updated_at

    def item_description(self, meeting):
        takeaways = [s.takeaway for s in meeting.suggestions.all() if s.takeaway]
        return strip_control(" ".join(takeaways)) or f"Notes of session #{meeting.number}."

    def item_extra_kwargs(self, meeting):
        return {"content": strip_control(self._content(meeting))}

    def _content(self, meeting):
        # Section HTML was sanitized with nh3 when the notes were posted.
        parts = [
            format_html("<h3>{}</h3>", section.question) + section.html
            for section in meeting.note_sections.all()
        ]
        materials = meeting.materials.all()
        if materials:
            items = "".join(
                format_html('<li><a href="{}">{}</a></li>', m.url, m.title) for m in materials
            )
            parts.append(f"<h3>Materials</h3><ul>{items}</ul>")
        return "".join(parts) or escape("(no notes)")
