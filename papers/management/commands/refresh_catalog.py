from django.core.management.base import BaseCommand

from papers.models import Paper
from papers.tasks import refresh_paper


class Command(BaseCommand):
    help = (
        "Queue an arXiv lookup for catalog papers arXiv has not confirmed: those with an "
        "arXiv ID, and those known only by their title (the worker runs them, spaced out "
        "and retried like any refresh)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=100, help="At most this many papers (default 100)."
        )

    def handle(self, *args, limit: int = 100, **options):
        waiting = Paper.objects.awaiting_arxiv()
        ids = list(waiting.order_by("id").values_list("pk", flat=True)[: max(limit, 0)])
        for paper_id in ids:
            refresh_paper.enqueue(paper_id)
        self.stdout.write(f"Queued {len(ids)} of {waiting.count()} papers for an arXiv lookup.")
