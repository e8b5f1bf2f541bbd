"""Background work for the catalog, run by `manage.py db_worker`: a paper typed by hand
while arXiv could not be reached gets arXiv's details once arXiv answers again."""

import datetime as dt
import logging

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from papers import arxiv
from papers.models import Paper

log = logging.getLogger(__name__)

REFRESH_ATTEMPTS = 8
REFRESH_FIRST_DELAY = dt.timedelta(minutes=2)  # then 4, 8, … : about 8.5 hours in all


def can_refresh(paper: Paper) -> bool:
    """arXiv could still confirm it: it has an arXiv ID, or is known by its title alone
    (PaperQuerySet.awaiting_arxiv, for one row already read)."""
    return not paper.from_arxiv and (paper.arxiv_id is not None or paper.title_only)


@task()
def refresh_paper(paper_id: int, attempt: int = 1) -> bool:
    """Fill a catalog paper from arXiv: by its arXiv ID, or, for a title-only paper, by a
    title search that must match (arxiv.search_title). True when arXiv confirmed it.

    arXiv unreachable: queued again later, with doubling delays, up to REFRESH_ATTEMPTS.
    arXiv has no such paper: stays as typed, not retried.
    Side effects: see services.confirm_paper (the row filled, duplicates merged into it).
    """
    from papers.services import confirm_paper

    paper = Paper.objects.filter(pk=paper_id).first()
    if paper is None or not can_refresh(paper):
        return False
    try:
        if paper.arxiv_id is not None:
            found = arxiv.fetch_metadata(paper.arxiv_id)
        else:
            found = arxiv.search_title(paper.title)
    except arxiv.ArxivNotFound:
        log.info("arXiv has no paper %s; it stays as typed", paper.arxiv_id)
        return False
    except arxiv.ArxivUnavailable:
        if attempt >= REFRESH_ATTEMPTS:
            log.warning("arXiv still unreachable for paper %s after %s tries", paper_id, attempt)
            return False
        delay = REFRESH_FIRST_DELAY * 2 ** (attempt - 1)
        refresh_paper.using(run_after=timezone.now() + delay).enqueue(paper_id, attempt + 1)
        return False
    if found is None:
        return False
    confirm_paper(metadata=found, paper=paper)
    return True


def queue_refresh(paper: Paper) -> None:
    """Ask arXiv about the paper in the background, after the current transaction commits."""
    if can_refresh(paper):
        paper_id = paper.pk
        transaction.on_commit(lambda: refresh_paper.enqueue(paper_id))
