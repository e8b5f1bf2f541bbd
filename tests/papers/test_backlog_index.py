"""The ballot reads a club's open papers from a partial index, in order: its cost does not
grow with the club's history of read and withdrawn papers."""

import pytest
from django.db import connection

from papers.models import Suggestion
from papers.services import suggest_paper, withdraw_suggestion

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL query plan"),
]


def test_backlog_is_read_in_order_from_the_open_papers_index(club, member):
    papers = [
        suggest_paper(
            club=club, suggested_by=member, link=f"2401.{i:05d}", title=f"P{i}", pitch="p"
        )
        for i in range(30)
    ]
    for paper in papers[:20]:
        withdraw_suggestion(suggestion=paper)
    backlog = Suggestion.objects.filter(club=club).backlog()[:16]
    sql, params = backlog.query.sql_with_params()

    with connection.cursor() as cursor:
        # A tiny table: a scan and a sort would do; say that neither is cheap, as they are
        # not for a club with thousands of papers.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "papers_suggestion_open_backlog" in plan
    assert "Sort" not in plan  # the index gives the order
    assert "Filter" not in plan  # and holds only the open papers
