"""`manage.py load_lessons`: make the built-in lesson rows match docs/lessons (also done
after every `migrate`)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from playground.lessons import LessonError, load_lessons


class Command(BaseCommand):
    help = "Create, update or delete the built-in lessons so that they match docs/lessons."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help="The database to load them into.")

    def handle(self, *args, database, **options):
        try:
            counts = load_lessons(using=database)
        except LessonError as exc:
            raise CommandError(f"lessons not loaded: {exc}") from exc
        self.stdout.write("Lessons: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
