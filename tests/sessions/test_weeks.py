import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from paperclub.errors import RuleViolation
from papers.models import Poll
from papers.polls import close_poll, open_poll
from papers.services import suggest_paper
from papers.votes import set_vote
from sessions.models import Meeting, SkippedWeek
from sessions.services import coming_weeks, next_free_slot, schedule_meeting, skip_week

pytestmark = pytest.mark.django_db


def test_skipped_week_is_passed_over_by_the_vote(club, organizer, member):
    first, second = coming_weeks(club)[:2]
    skip_week(club=club, day=first["day"])
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    poll = open_poll(club=club, opened_by=organizer)
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=paper, approve=True
    )

    close_poll(poll=poll, closed_by=organizer)

    assert Meeting.objects.get().starts_at == second["starts_at"]


def test_weekly_slot_stays_after_a_skip(club):
    weeks = coming_weeks(club)
    skip_week(club=club, day=weeks[0]["day"])

    assert next_free_slot(club, timezone.now()) == weeks[1]["starts_at"]
    assert [w["starts_at"] for w in coming_weeks(club)] == [w["starts_at"] for w in weeks]


def test_cannot_skip_a_week_with_a_scheduled_session(club, member):
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    meeting = schedule_meeting(club=club, suggestions=[paper])

    with pytest.raises(RuleViolation, match="Move or cancel it first"):
        skip_week(club=club, day=meeting.starts_at.astimezone(club.tz).date())

    assert SkippedWeek.objects.count() == 0


def test_cannot_skip_a_day_the_club_does_not_meet(club):
    with pytest.raises(RuleViolation, match="coming meeting days"):
        skip_week(club=club, day=dt.date(2020, 1, 1))


def test_organizer_skips_and_restores_from_the_club_page(organizer_client, club, client):
    day = coming_weeks(club)[1]["day"]
    url = reverse("meetings:week_skip", args=[club.slug])

    organizer_client.post(url, {"day": day.isoformat(), "action": "skip"})
    assert SkippedWeek.objects.filter(club=club, day=day).exists()
    assert "skipped" in client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    organizer_client.post(url, {"day": day.isoformat(), "action": "unskip"})
    assert not SkippedWeek.objects.exists()


def test_members_cannot_skip_weeks(member_client, club):
    day = coming_weeks(club)[0]["day"]

    response = member_client.post(
        reverse("meetings:week_skip", args=[club.slug]), {"day": day.isoformat()}
    )

    assert response.status_code == 403
    assert not SkippedWeek.objects.exists()


def test_forged_day_is_refused_without_a_500(organizer_client, club):
    response = organizer_client.post(
        reverse("meetings:week_skip", args=[club.slug]), {"day": "31-31-2026"}, follow=True
    )

    assert "coming meeting days" in response.content.decode()
    assert not Poll.objects.exists()


def test_club_page_query_count_does_not_grow_with_coming_sessions(
    client, club, add_sessions, same_queries
):
    add_sessions(0, 1)

    same_queries(
        lambda: client.get(reverse("clubs:detail", args=[club.slug])), lambda: add_sessions(1, 6)
    )


def weeks_list(html: str) -> list[str]:
    import re

    block = html.split('class="plain weeks"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", block, flags=re.S)
    return [" ".join(re.sub(r"<form.*?</form>|<[^>]+>", " ", i, flags=re.S).split()) for i in items]


def test_coming_weeks_say_what_each_week_holds(client, club, organizer, member):
    weeks = coming_weeks(club)
    paper = suggest_paper(
        club=club, suggested_by=member, link="1706.03762", title="Attention", pitch="p"
    )
    meeting = schedule_meeting(club=club, suggestions=[paper], starts_at=weeks[0]["starts_at"])
    skip_week(club=club, day=weeks[1]["day"])
    suggest_paper(club=club, suggested_by=member, link="2401.00002", title="Next", pitch="p")
    open_poll(
        club=club, opened_by=organizer, closes_at=weeks[2]["starts_at"] - dt.timedelta(days=1)
    )

    html = client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    lines = weeks_list(html)
    assert lines[0].endswith("#1: Attention")
    assert f'href="{meeting.get_absolute_url()}">#1: Attention</a>' in html
    assert lines[1].endswith("skipped")
    assert "vote open" in lines[2] and "closes Tue" in lines[2]
    assert all(line.endswith("no paper yet") for line in lines[3:])
    assert len(lines) == 6


def test_a_poll_without_closing_time_fills_the_first_free_week(club, organizer, member):
    suggest_paper(club=club, suggested_by=member, link="2401.00002", title="Next", pitch="p")
    poll = open_poll(club=club, opened_by=organizer)
    skip_week(club=club, day=coming_weeks(club)[0]["day"])

    holds = [w["holds"] for w in coming_weeks(club, poll=poll)]

    assert holds == ["skipped", "vote", "free", "free", "free", "free"]


def test_a_session_held_this_hour_still_fills_its_week(club, organizer, member, start_session):
    from sessions.services import post_notes

    # The club's weekly slot began 20 minutes ago (notes post only once a session started),
    # whatever the day and hour the test runs at.
    slot = (timezone.now() - dt.timedelta(minutes=20)).astimezone(club.tz).replace(microsecond=0)
    club.meeting_weekday, club.meeting_time = slot.weekday(), slot.time()
    club.save()
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00003", title="P", pitch="p")
    meeting = schedule_meeting(
        club=club, suggestions=[paper], starts_at=slot + dt.timedelta(days=7)
    )
    start_session(meeting, ago=timezone.now() - slot)
    post_notes(meeting=meeting, author=organizer, bodies=["x", "", ""], takeaways={})

    weeks = coming_weeks(club)

    assert weeks[0]["holds"] == "session"
    assert [x["meeting"].pk for x in weeks[0]["sessions"]] == [meeting.pk]


def test_club_page_weeks_query_count_does_not_grow_with_sessions(
    client, club, member, same_queries
):
    url = reverse("clubs:detail", args=[club.slug])
    weeks = coming_weeks(club)

    def add(i):
        paper = suggest_paper(
            club=club, suggested_by=member, link=f"2402.{i:05d}", title=f"W{i}", pitch="p"
        )
        schedule_meeting(club=club, suggestions=[paper], starts_at=weeks[i]["starts_at"])

    add(0)
    same_queries(lambda: client.get(url), lambda: [add(i) for i in range(1, 5)])


def test_a_week_lists_every_session_of_its_day_in_start_order(client, club, organizer, member):
    slot = coming_weeks(club)[0]["starts_at"]
    winner = suggest_paper(
        club=club, suggested_by=member, link="2401.00011", title="Won", pitch="p"
    )
    extra = suggest_paper(
        club=club, suggested_by=member, link="2401.00012", title="Early", pitch="p"
    )
    evening = schedule_meeting(club=club, suggestions=[winner], starts_at=slot)
    morning_at = slot.astimezone(club.tz).replace(hour=7, minute=4)
    morning = schedule_meeting(club=club, suggestions=[extra], starts_at=morning_at)

    weeks = coming_weeks(club)
    html = client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert [x["meeting"].pk for x in weeks[0]["sessions"]] == [morning.pk, evening.pk]
    assert [[p.display_title for p in x["papers"]] for x in weeks[0]["sessions"]] == [
        ["Early"],
        ["Won"],
    ]
    assert weeks_list(html)[0].endswith("#2: Early , #1: Won")
    assert f'href="{morning.get_absolute_url()}">#2: Early</a>' in html
    assert f'href="{evening.get_absolute_url()}">#1: Won</a>' in html


def test_a_session_without_a_paper_still_fills_its_week(client, club, member):
    slot = coming_weeks(club)[1]["starts_at"]
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00013", title="P", pitch="p")
    meeting = schedule_meeting(club=club, suggestions=[paper], starts_at=slot)
    meeting.suggestions.clear()  # its only paper was taken off the session

    weeks = coming_weeks(club)
    html = client.get(reverse("clubs:detail", args=[club.slug])).content.decode()

    assert weeks[1]["holds"] == "session"
    assert [(x["meeting"].pk, x["papers"]) for x in weeks[1]["sessions"]] == [(meeting.pk, [])]
    assert f'href="{meeting.get_absolute_url()}">#1: no paper yet</a>' in html
    assert "Skip" not in weeks_list(html)[1]
