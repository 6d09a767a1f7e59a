import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from moderation.services.users import user_create_admin


class Command(BaseCommand):
    help = (
        "Create the admin account if it does not exist; its password is printed to a terminal, or "
        "else written to var/admin_password (readable by this user only)."
    )

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
        try:
            user_create_admin(username=username, email=email, password=password)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        if self.stdout.isatty():
            self.stdout.write(self.style.SUCCESS(f"admin account created: username {username}  password {password}"))
            return
        # Not a terminal (`make run`'s log, a container's): the password goes to a private file.
        path = settings.VAR_DIR / "admin_password"
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(password + "\n")
        self.stdout.write(self.style.SUCCESS(f"admin account created: username {username}, password in {path}"))
