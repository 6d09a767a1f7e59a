from django.core.management.base import BaseCommand

from moderation.selectors.decisions import suggested_label_annotations
from moderation.services.review import label_annotations_unset_suggested


class Command(BaseCommand):
    help = (
        "Find moderator labels that decisions made before chosen-labels-only saved straight from the model's "
        "suggestions (a flagged label as yes, any other as no); with --unset, make them unknown again so "
        "training masks them. Labels a moderator changed from the suggestion are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--unset", action="store_true", help="make the labels found unknown (audited)")

    def handle(self, *args, unset: bool, **options):
        found = suggested_label_annotations()
        count, comments = found.count(), found.values("comment_id").distinct().count()
        if not unset:
            self.stdout.write(
                f"{count} moderator label(s) on {comments} comment(s) may be the model's suggestions; "
                "run with --unset to make them unknown"
            )
            return
        removed = label_annotations_unset_suggested()
        self.stdout.write(self.style.SUCCESS(f"{removed} label(s) on {comments} comment(s) are unknown again"))
