"""`python manage.py grader`: a grading worker that polls the submission queue."""

from django.core.management.base import BaseCommand

from playground import monitoring
from playground.classrooms.grader import Grader


class Command(BaseCommand):
    help = "Grade queued submissions (run one or more next to the web processes)."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=1.0,
                            help="seconds between looks at the queue (default 1)")
        parser.add_argument("--once", action="store_true",
                            help="grade what is queued now, then exit")
        monitoring.add_port_options(parser)

    def handle(self, *args, poll: float, once: bool, **options):
        grader = Grader()
        if once:
            try:
                done = grader.grade_pending()
            finally:
                grader.close()
            self.stdout.write(f"graded {done} submission(s)")
            return
        monitoring.serve_if_asked(options)
        self.stdout.write(f"grader {grader.name} polling every {poll:g} s")
        grader.loop(poll)
