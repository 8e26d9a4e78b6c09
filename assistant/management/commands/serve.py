import signal
import subprocess
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run Keel: the ASGI server (daphne) and the background worker, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        stop = threading.Event()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, lambda *_: stop.set())

        manage = str(settings.BASE_DIR / "manage.py")
        processes = {
            "worker": subprocess.Popen([sys.executable, manage, "procrastinate", "worker"]),
            "web": subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "assistant.server",
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
            f"  demo site    {base}/   (the chat widget, as a customer sees it)\n"
            f"  staff pages  {base}/app/\n"
            f"  knowledge    {base}/w/demo/knowledge/help-center/\n"
            f"  chat widget  {base}/w/demo/widget/\n"
            f"  Django admin {base}/admin/\n"
        )
        while not stop.wait(timeout=0.5):
            stopped = [name for name, process in processes.items() if process.poll() is not None]
            if stopped:
                self.stderr.write(f"{', '.join(stopped)} stopped unexpectedly; stopping the rest.")
                break
        self.stdout.write("Stopping Keel…")
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Stopped.")
