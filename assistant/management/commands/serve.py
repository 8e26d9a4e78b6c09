import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run Keel: the ASGI server (daphne) and the background worker, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        manage = str(settings.BASE_DIR / "manage.py")
        processes = {
            "worker": subprocess.Popen([sys.executable, manage, "procrastinate", "worker"]),
            "web": subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    host,
                    "-p",
                    str(port),
                    "assistant.asgi:application",
                ]
            ),
        }
        base = f"http://{host}:{port}"
        self.stdout.write(
            f"\nKeel is running (Ctrl-C stops it):\n"
            f"  staff pages  {base}/\n"
            f"  knowledge    {base}/w/demo/knowledge/help-center/\n"
            f"  Django admin {base}/admin/\n"
        )
        try:
            while all(process.poll() is None for process in processes.values()):
                time.sleep(0.5)
            stopped = [name for name, process in processes.items() if process.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped unexpectedly; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping Keel…")
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
