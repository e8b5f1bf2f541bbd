import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from clubs.models import Club, Invite, Membership
from clubs.services import (
    change_role,
    create_club,
    create_invite,
    join_club,
    leave_club,
    remove_member,
    revoke_invite,
)
from paperclub.errors import RuleViolation

pytestmark = pytest.mark.django_db

Role = Membership.Role


def test_create_club_makes_creator_its_first_organizer(organizer):
    club = create_club(creator=organizer, name="Reading Group", slug="reading")

    assert list(club.memberships.values_list("user__email", "role")) == [
        ("organizer@example.com", "organizer")
    ]
    assert club.discussion_questions == ["Big Idea", "Relevance", "Open Questions"]


def test_create_club_with_taken_slug_is_refused_and_writes_nothing(organizer, club):
    with pytest.raises(RuleViolation, match="address is taken"):
        create_club(creator=organizer, name="Copy", slug=club.slug)

    assert Club.objects.count() == 1
    assert Membership.objects.filter(club__name="Copy").count() == 0


def test_join_open_club_adds_a_member(club, outsider):
    membership = join_club(club=club, user=outsider)

    assert membership.role == Role.MEMBER


def test_join_twice_keeps_one_membership(club, member):
    join_club(club=club, user=member)

    assert Membership.objects.filter(club=club, user=member).count() == 1


def test_join_invite_only_club_without_invite_is_refused(private_club, outsider):
    with pytest.raises(RuleViolation, match="invite link only"):
        join_club(club=private_club, user=outsider)

    assert not Membership.objects.filter(club=private_club, user=outsider).exists()


def test_join_with_invite_counts_the_use(private_club, organizer, outsider):
    invite = create_invite(club=private_club, created_by=organizer, max_uses=2)

    join_club(club=private_club, user=outsider, invite=invite)

    invite.refresh_from_db()
    assert invite.use_count == 1
    assert Membership.objects.filter(club=private_club, user=outsider).exists()


def test_join_with_used_up_invite_is_refused(private_club, organizer, outsider, django_user_model):
    invite = create_invite(club=private_club, created_by=organizer, max_uses=1)
    first = django_user_model.objects.create_user(email="first@example.com", password="x")
    join_club(club=private_club, user=first, invite=invite)

    with pytest.raises(RuleViolation, match="used up"):
        join_club(club=private_club, user=outsider, invite=invite)

    invite.refresh_from_db()
    assert invite.use_count == 1


def test_join_with_expired_invite_is_refused(private_club, organizer, outsider):
    invite = create_invite(
        club=private_club, created_by=organizer, expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(RuleViolation, match="expired"):
        join_club(club=private_club, user=outsider, invite=invite)


def test_join_with_revoked_invite_is_refused(private_club, organizer, outsider):
    invite = revoke_invite(invite=create_invite(club=private_club, created_by=organizer))

    with pytest.raises(RuleViolation, match="revoked"):
        join_club(club=private_club, user=outsider, invite=invite)


def test_invite_of_another_club_is_refused(club, private_club, organizer, outsider):
    invite = create_invite(club=club, created_by=organizer)

    with pytest.raises(RuleViolation, match="another club"):
        join_club(club=private_club, user=outsider, invite=invite)


@pytest.mark.parametrize(
    ("expires_at", "max_uses", "message"),
    [
        (dt.timedelta(hours=-1), None, "future"),
        (None, 0, "at least 1"),
    ],
)
def test_create_invite_rejects_bad_limits(club, organizer, expires_at, max_uses, message):
    with pytest.raises(RuleViolation, match=message):
        create_invite(
            club=club,
            created_by=organizer,
            expires_at=timezone.now() + expires_at if expires_at else None,
            max_uses=max_uses,
        )

    assert Invite.objects.count() == 0


def test_invite_use_limit_is_a_database_constraint(club, organizer):
    invite = create_invite(club=club, created_by=organizer, max_uses=1)

    with pytest.raises(IntegrityError):
        Invite.objects.filter(pk=invite.pk).update(use_count=2)


def test_last_organizer_cannot_leave(club, organizer):
    membership = club.memberships.get(user=organizer)

    with pytest.raises(RuleViolation, match="last organizer"):
        leave_club(membership=membership)

    assert club.memberships.filter(user=organizer).exists()


def test_last_organizer_cannot_step_down(club, organizer):
    membership = club.memberships.get(user=organizer)

    with pytest.raises(RuleViolation, match="last organizer"):
        change_role(membership=membership, role=Role.MEMBER, changed_by=organizer)

    membership.refresh_from_db()
    assert membership.role == Role.ORGANIZER


def test_last_organizer_cannot_be_removed(club, organizer):
    membership = club.memberships.get(user=organizer)

    with pytest.raises(RuleViolation, match="last organizer"):
        remove_member(membership=membership, removed_by=organizer)


def test_organizer_can_step_down_once_another_is_promoted(club, organizer, member):
    change_role(
        membership=club.memberships.get(user=member), role=Role.ORGANIZER, changed_by=organizer
    )

    change_role(
        membership=club.memberships.get(user=organizer), role=Role.MEMBER, changed_by=member
    )

    assert dict(club.memberships.values_list("user__email", "role")) == {
        "organizer@example.com": "member",
        "member@example.com": "organizer",
    }


def test_member_can_leave(club, member):
    leave_club(membership=club.memberships.get(user=member))

    assert not club.memberships.filter(user=member).exists()


def test_membership_is_unique_per_club_and_user(club, member):
    with pytest.raises(IntegrityError):
        Membership.objects.create(club=club, user=member)


def test_next_slot_keeps_local_time_across_daylight_saving(organizer):
    club = create_club(
        creator=organizer,
        name="Berlin",
        slug="berlin",
        time_zone="Europe/Berlin",
        meeting_weekday=3,
        meeting_time=dt.time(19, 0),
    )
    # Thursday 2026-10-22 is in summer time (UTC+2); Thursday 2026-10-29 in winter time (UTC+1).
    after_summer_session = dt.datetime(2026, 10, 22, 18, 0, tzinfo=dt.UTC)

    slot = club.next_slot_after(after_summer_session)

    assert slot.astimezone(club.tz).strftime("%Y-%m-%d %H:%M %Z") == "2026-10-29 19:00 CET"
    assert slot.astimezone(dt.UTC).hour == 18


def test_next_slot_for_friday_utc_club(organizer):
    club = create_club(
        creator=organizer,
        name="Fri",
        slug="fri",
        time_zone="UTC",
        meeting_weekday=4,
        meeting_time=dt.time(23, 0),
    )
    friday_at_23 = dt.datetime(2026, 11, 27, 23, 0, tzinfo=dt.UTC)

    assert club.next_slot_after(friday_at_23 - dt.timedelta(minutes=1)) == friday_at_23
    assert club.next_slot_after(friday_at_23) == friday_at_23 + dt.timedelta(days=7)


def test_next_slot_on_a_skipped_hour_moves_forward(organizer):
    # 02:30 does not exist in Berlin on 2027-03-28 (clocks jump from 02:00 to 03:00).
    club = create_club(
        creator=organizer,
        name="Night",
        slug="night",
        time_zone="Europe/Berlin",
        meeting_weekday=6,
        meeting_time=dt.time(2, 30),
    )

    slot = club.next_slot_after(dt.datetime(2027, 3, 27, 12, 0, tzinfo=dt.UTC))

    assert slot.astimezone(club.tz).strftime("%Y-%m-%d %H:%M") == "2027-03-28 03:30"
