"""Writes for clubs, memberships and invites. Each runs in one transaction."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from clubs.models import (
    QUESTION_MAX,
    QUESTIONS_MAX,
    RULES_MAX,
    Club,
    Invite,
    Membership,
    new_feed_token,
)
from paperclub import cache
from paperclub.errors import RuleViolation
from paperclub.text import checked_text

Role = Membership.Role


@transaction.atomic
def create_club(*, creator, **fields) -> Club:
    """Create a club and make `creator` its first organizer.

    Side effects: one Club row, one organizer Membership row.
    """
    fields = clean_club_fields(fields)
    try:
        with transaction.atomic():
            club = Club.objects.create(**fields)
    except IntegrityError:
        raise RuleViolation("That address is taken by another club; pick another slug.") from None
    Membership.objects.create(club=club, user=creator, role=Role.ORGANIZER)
    return club


# The club's one-line texts, as messages name them; their limits are the model's max_length.
ONE_LINE = {"name": "The name", "description": "The description", "place_name": "The place"}


def clean_club_fields(fields: dict) -> dict:
    """The club's texts by the input rule (paperclub.text); a RuleViolation if too long."""
    fields = dict(fields)
    for field, label in ONE_LINE.items():
        if field in fields:
            limit = Club._meta.get_field(field).max_length
            fields[field] = checked_text(fields[field], max_length=limit, label=label)
    if "rules" in fields:
        fields["rules"] = checked_text(
            fields["rules"], max_length=RULES_MAX, label="The rules", multiline=True
        )
    if "discussion_questions" in fields:
        questions = [
            checked_text(q, max_length=QUESTION_MAX, label="A question")
            for q in fields["discussion_questions"]
        ]
        questions = [q for q in questions if q]
        if not questions or len(questions) > QUESTIONS_MAX:
            raise RuleViolation("Give one to eight discussion questions.", status=400)
        fields["discussion_questions"] = questions
    if "name" in fields and not fields["name"]:
        raise RuleViolation("Give the club a name.", status=400)
    return fields


def _lock_club(club: Club) -> Club:
    # Serialises role changes in one club, so two organizers demoting each other at
    # the same moment cannot leave the club without one.
    return Club.objects.select_for_update().get(pk=club.pk)


def _refuse_if_last_organizer(membership: Membership, action: str) -> None:
    if not membership.is_organizer:
        return
    others = (
        Membership.objects.filter(club_id=membership.club_id, role=Role.ORGANIZER)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not others:
        raise RuleViolation(
            f"{membership.user} is the club's last organizer and cannot {action}. "
            "Make someone else an organizer first."
        )


@transaction.atomic
def join_club(*, club: Club, user, invite: Invite | None = None) -> Membership:
    """Add `user` to `club` as a member.

    Open clubs take anyone; invite-only clubs need a usable `invite`, whose use count
    goes up by one. Joining a club you are already in changes nothing.
    Side effects: one Membership row; Invite.use_count + 1 when an invite is used.
    """
    cache.bump_clubs([club.pk])
    existing = Membership.objects.filter(club=club, user=user).first()
    if existing:
        return existing
    if invite is not None:
        invite = Invite.objects.select_for_update().get(pk=invite.pk)
        if invite.club_id != club.pk:
            raise RuleViolation("This invite link is for another club.", status=400)
        problem = invite.problem()
        if problem:
            raise RuleViolation(problem, status=410)
    elif club.joining != Club.Joining.OPEN:
        raise RuleViolation("This club takes new members by invite link only.", status=403)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(club=club, user=user, role=Role.MEMBER)
    except IntegrityError:
        # Joined a moment ago in another tab: the first join wins, nothing else changes.
        return Membership.objects.get(club=club, user=user)
    if invite is not None:
        invite.use_count += 1
        invite.save(update_fields=["use_count"])
    return membership


@transaction.atomic
def leave_club(*, membership: Membership) -> None:
    """Remove the member's own membership. Refused for the last organizer.

    Side effects: deletes one Membership row.
    """
    cache.bump_clubs([membership.club_id])
    _lock_club(membership.club)
    membership = Membership.objects.get(pk=membership.pk)
    _refuse_if_last_organizer(membership, "leave")
    membership.delete()


@transaction.atomic
def change_role(*, membership: Membership, role: str, changed_by) -> Membership:
    """Promote to organizer or demote to member. A club never loses its last organizer.

    Side effects: updates Membership.role.
    """
    cache.bump_clubs([membership.club_id])
    if role not in Role.values:
        raise RuleViolation("Unknown role.", status=400)
    _lock_club(membership.club)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    if role == Role.MEMBER:
        _refuse_if_last_organizer(membership, "step down")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, removed_by) -> None:
    """An organizer removes someone from the club. Refused for the last organizer.

    Side effects: deletes one Membership row (their votes in open polls go with it).
    """
    cache.bump_clubs([membership.club_id])
    _lock_club(membership.club)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    _refuse_if_last_organizer(membership, "be removed")
    membership.delete()


@transaction.atomic
def create_invite(
    *, club: Club, created_by, expires_at: dt.datetime | None = None, max_uses: int | None = None
) -> Invite:
    """A new invite link. Side effects: one Invite row."""
    if expires_at is not None and expires_at <= timezone.now():
        raise RuleViolation("The expiry must be in the future.", status=400)
    if max_uses is not None and max_uses < 1:
        raise RuleViolation("The use limit must be at least 1.", status=400)
    return Invite.objects.create(
        club=club, created_by=created_by, expires_at=expires_at, max_uses=max_uses
    )


@transaction.atomic
def revoke_invite(*, invite: Invite) -> Invite:
    """Stop an invite link from working. Side effects: sets Invite.revoked_at."""
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
    return invite


@transaction.atomic
def reset_feed_token(*, membership: Membership) -> Membership:
    """Give the member a new secret for their private feed links; the old ones stop working.

    Side effects: Membership.feed_token.
    """
    membership.feed_token = new_feed_token()
    membership.save(update_fields=["feed_token"])
    return membership


def unsubscribe(*, membership: Membership, kind: str) -> Membership:
    """Stop one kind of email ("reminders", "polls", "notes") for this membership.

    Side effects: one preference field of the Membership.
    """
    field, off = Membership.EMAIL_SWITCHES[kind]
    setattr(membership, field, off)
    membership.save(update_fields=[field])
    return membership
