import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from moderation.roles import ADMIN, MODERATOR


class Command(BaseCommand):
    help = "Create the admin account if it does not exist, and print its credentials once."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"admin account '{username}' already exists "
                f"(reset its password with 'manage.py changepassword {username}')"
            )
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=username, email=email, password=password)
        user.groups.add(*Group.objects.filter(name__in=[ADMIN, MODERATOR]))
        self.stdout.write(self.style.SUCCESS(f"admin account created: username {username}  password {password}"))
