import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toxiscope.settings")

app = Celery("toxiscope")
app.config_from_object("django.conf:settings", namespace="CELERY")
# `default` serves scoring and webhooks; `training` is consumed by trainer workers only, so a
# long training run never delays a comment.
app.conf.task_queues = (Queue("default"), Queue("training"))
app.autodiscover_tasks()
