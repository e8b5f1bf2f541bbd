import pytest

from papers.services import suggest_paper
from sessions.services import schedule_meeting


@pytest.fixture
def add_sessions(club, member):
    """Schedule sessions numbered `start` to `stop - 1`, one new paper each."""

    def add(start: int, stop: int) -> None:
        for i in range(start, stop):
            paper = suggest_paper(
                club=club, suggested_by=member, link=f"2401.{i:05d}", title=f"P{i}", pitch="p"
            )
            schedule_meeting(club=club, suggestions=[paper])

    return add


@pytest.fixture
def start_session():
    """Move a session's start into the past: notes publish only once it has started."""
    import datetime as dt

    from django.utils import timezone

    from sessions.models import Meeting

    def start(meeting, ago: dt.timedelta = dt.timedelta(minutes=30)) -> None:
        meeting.starts_at = timezone.now() - ago
        Meeting.objects.filter(pk=meeting.pk).update(starts_at=meeting.starts_at)

    return start
