"""`python manage.py simworker`: drive live runs for the web processes (PLAYGROUND_RUNNER=workers,
docs/deploy.md)."""

import asyncio
import contextlib
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from playground import collector, monitoring
from playground.live.simworker import SimWorker


class Command(BaseCommand):
    help = "Simulate live runs started through the web processes (needs REDIS_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--max-runs", type=int, default=settings.PLAYGROUND_WORKER_MAX_RUNS,
                            help="runs this worker drives at once (default "
                                 "PLAYGROUND_WORKER_MAX_RUNS)")
        parser.add_argument("--name", help="worker id in Redis, unique (default: host, pid and "
                                           "a random suffix)")
        monitoring.add_port_options(parser)

    def handle(self, *args, max_runs: int, name: str | None, **options):
        if not settings.REDIS_URL:
            raise CommandError("simworker needs REDIS_URL (runs, leases and frames go "
                               "through Redis)")
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        monitoring.serve_if_asked(options)
        worker = SimWorker(max_runs, name)
        collector.settle()
        self.stdout.write(f"simworker {worker.id}: at most {max_runs} runs")
        asyncio.run(_serve(worker))


async def _serve(worker: SimWorker) -> None:
    """Serve until SIGTERM or SIGINT, then hand the runs over (SimWorker.shutdown)."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await worker.serve()
