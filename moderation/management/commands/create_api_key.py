from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from moderation.roles import API_CLIENT
from moderation.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a client user (created, in the api_client role, if missing). Prints it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="default", help="a label to tell the client's keys apart")

    def handle(self, *args, username, name, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        try:
            user.groups.add(Group.objects.get(name=API_CLIENT))
        except Group.DoesNotExist:
            raise CommandError("the api_client role is missing: run `manage.py migrate` first") from None
        _, raw_key = api_key_create(user=user, name=name)
        self.stdout.write(f"API key for {username} (shown once, store it now):")
        self.stdout.write(raw_key)
