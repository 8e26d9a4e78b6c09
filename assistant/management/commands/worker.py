"""`manage.py worker`: the background worker (`manage.py procrastinate worker`), with the
answer path's models loaded first, as a server process loads them before it listens
(`assistant.project.warmup`): a policy check's or an evaluation's first case then does not pay for
building the injection classifier and the other models while its job runs."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from assistant.project.warmup import answer_path_warm


class Command(BaseCommand):
    help = "Run the background worker, with the answer path loaded before the first job."

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="", help="Only these, e.g. ingestion,checks.")
        parser.add_argument("--one-shot", action="store_true", help="Stop once no job waits.")

    def handle(self, *args, queues: str, one_shot: bool, **options):
        answer_path_warm()
        worker_options = [f"--queues={queues}"] if queues else []
        if one_shot:
            worker_options.append("--one-shot")
        call_command("procrastinate", "worker", *worker_options)
