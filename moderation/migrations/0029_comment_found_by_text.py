"""Comments stored by the Perspective endpoint without an id of their client's are found again by
their text's SHA-256 through an index, rather than by comparing the texts of a client's week."""

import hashlib

from django.conf import settings
from django.db import migrations, models


def hash_texts(apps, schema_editor):
    """Only such comments are ever looked up by text; a thousand rows a statement."""
    Comment = apps.get_model("moderation", "Comment")
    found_by_text = Comment.objects.filter(external_id__isnull=True, moderated_here=False, text_sha256="")
    batch = []
    for comment in found_by_text.only("pk", "text").iterator(chunk_size=1000):
        comment.text_sha256 = hashlib.sha256(comment.text.encode()).hexdigest()
        batch.append(comment)
        if len(batch) == 1000:
            Comment.objects.bulk_update(batch, ["text_sha256"])
            batch = []
    Comment.objects.bulk_update(batch, ["text_sha256"])


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0028_model_version_cascade"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="text_sha256",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(hash_texts, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="comment",
            index=models.Index(
                condition=models.Q(("external_id__isnull", True), ("moderated_here", False)),
                fields=["client", "text_sha256"],
                name="comment_found_by_text",
            ),
        ),
    ]
