from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from moderation.services import api_key_create
from moderation.services.users import user_ensure_api_client


class Command(BaseCommand):
    help = "Create an API key for a client user (created, in the api_client role, if missing). Prints it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="default", help="a label to tell the client's keys apart")

    def handle(self, *args, username, name, **options):
        try:
            user = user_ensure_api_client(username=username)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        _, raw_key = api_key_create(user=user, name=name)
        self.stdout.write(f"API key for {username} (shown once, store it now):")
        self.stdout.write(raw_key)
