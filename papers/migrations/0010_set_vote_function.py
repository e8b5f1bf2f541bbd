"""The approval vote's locks, checks and write as one PostgreSQL function
(papers.votes.set_vote).

One call is one round trip and, outside a transaction, its own transaction: the locks of
the first statement are held until the call ends, and the write, a second statement of a
VOLATILE function, reads with a snapshot taken after they were granted, so it counts every
vote committed before. SQLite keeps the ORM statements (one writer at a time).
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION papers_set_vote(
    a_poll bigint, a_membership bigint, a_suggestion bigint, a_approve boolean,
    a_now timestamptz, a_approval text, a_open text
) RETURNS TABLE (
    r_closed_at timestamptz, r_closes_at timestamptz, r_method text,
    r_countdown_minutes integer, r_budget integer, r_show_live_results boolean,
    r_on_shortlist boolean,
    r_state text, r_used bigint, r_here bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p record;
BEGIN
    -- The poll as committed now, FOR SHARE (closing it waits for the vote, and a vote
    -- waits for a close under way), with the voter's membership FOR UPDATE (one member's
    -- requests queue up, so a double-click cannot exceed the budget).
    SELECT q.* INTO p FROM {poll} q
    JOIN {membership} m ON m.id = a_membership AND m.club_id = q.club_id
    WHERE q.id = a_poll
    FOR SHARE OF q FOR UPDATE OF m;
    IF NOT FOUND THEN  -- the member left the club meanwhile: no row
        RETURN;
    END IF;
    r_closed_at := p.closed_at;
    r_closes_at := p.closes_at;
    r_method := p.method;
    r_countdown_minutes := p.countdown_minutes;
    r_budget := p.budget;
    r_show_live_results := p.show_live_results;
    r_on_shortlist := p.countdown_minutes IS NULL OR EXISTS (
        SELECT 1 FROM {shortlist} l WHERE l.poll_id = a_poll AND l.suggestion_id = a_suggestion
    );
    -- Poll.is_ranked, Poll.is_open(now) and Poll.is_live's shortlist, as set_vote checks
    -- them on the row returned; nothing is written unless all three allow it.
    IF p.method <> a_approval OR p.closed_at IS NOT NULL
            OR (p.closes_at IS NOT NULL AND a_now >= p.closes_at) OR NOT r_on_shortlist THEN
        RETURN NEXT;
        RETURN;
    END IF;
    IF a_approve THEN
        -- The paper FOR SHARE (a withdrawal waits for the vote, or the vote sees it
        -- withdrawn); the insert only for an open paper, not yet voted for, within budget.
        WITH s AS (
            SELECT id, state FROM {suggestion} WHERE id = a_suggestion FOR SHARE
        ), mine AS (
            SELECT count(*) AS used, count(*) FILTER (WHERE v.suggestion_id = a_suggestion) AS here
            FROM {vote} v WHERE v.poll_id = a_poll AND v.membership_id = a_membership
        ), added AS (
            INSERT INTO {vote} (poll_id, membership_id, suggestion_id, cast_at)
            SELECT a_poll, a_membership, s.id, a_now FROM s, mine
            WHERE s.state = a_open AND mine.here = 0 AND mine.used < p.budget
            RETURNING 1
        )
        SELECT (SELECT s.state FROM s), mine.used, mine.here
        INTO r_state, r_used, r_here FROM mine;
    ELSE
        -- Votes used after taking this one back, and whether there was one to take.
        WITH taken AS (
            DELETE FROM {vote} v
            WHERE v.poll_id = a_poll AND v.membership_id = a_membership
            AND v.suggestion_id = a_suggestion
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM {vote} v
                WHERE v.poll_id = a_poll AND v.membership_id = a_membership)
               - (SELECT count(*) FROM taken),
               (SELECT count(*) FROM taken)
        INTO r_used, r_here;
    END IF;
    RETURN NEXT;
END
$$
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    poll = apps.get_model("papers", "Poll")
    tables = {
        "poll": poll._meta.db_table,
        "shortlist": poll._meta.get_field("shortlist").remote_field.through._meta.db_table,
        "membership": apps.get_model("clubs", "Membership")._meta.db_table,
        "suggestion": apps.get_model("papers", "Suggestion")._meta.db_table,
        "vote": apps.get_model("papers", "Vote")._meta.db_table,
    }
    schema_editor.execute(FUNCTION.format(**tables))


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS papers_set_vote"
            "(bigint, bigint, bigint, boolean, timestamptz, text, text)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clubs", "0006_club_name_not_blank"),
        ("papers", "0009_suggestion_open_backlog_index"),
    ]

    operations = [migrations.RunPython(create_function, drop_function)]
