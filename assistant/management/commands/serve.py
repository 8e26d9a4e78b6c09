import signal
import socket
import subprocess
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from assistant.widget.demo import DEMO_WORKSPACE_SLUG, demo_logins

ASGI_APPLICATION = "assistant.project.asgi:application"


class Command(BaseCommand):
    help = "Run Keel: the ASGI server (daphne) and the background worker, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--demo", action="store_true", help="Also print the demo's pages and logins."
        )

    def handle(self, *args, host: str, port: int, demo: bool, **options):
        stop = threading.Event()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, lambda *_: stop.set())

        manage = str(settings.BASE_DIR / "manage.py")
        processes = {
            "worker": subprocess.Popen([sys.executable, manage, "worker"]),
            "web": subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "assistant.project.server",
                    "-b",
                    host,
                    "-p",
                    str(port),
                    ASGI_APPLICATION,
                ]
            ),
        }
        # Printed once the server listens, so the start-up chatter cannot scroll it away.
        if _listening(host=host, port=port, process=processes["web"], stop=stop):
            self.stdout.write(self._ready_text(base=f"http://{host}:{port}", demo=demo))
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

    def _ready_text(self, *, base: str, demo: bool) -> str:
        lines = ["", "Keel is running (Ctrl-C stops it):"]
        if demo:
            lines += [
                f"  demo site    {base}/   (the chat widget, as a customer sees it)",
                f"  console      {base}/console/{DEMO_WORKSPACE_SLUG}/   (agents and admins)",
                f"  knowledge    {base}/w/{DEMO_WORKSPACE_SLUG}/knowledge/help-center/",
                f"  policy       {base}/w/{DEMO_WORKSPACE_SLUG}/policy/",
            ]
        lines += [f"  staff pages  {base}/app/", f"  Django admin {base}/admin/"]
        if demo:
            lines += ["", "Demo logins (kept in .keel/, the same on every run):"]
            lines += [
                f"  {login.role.value:<6} {login.username} / {login.password}"
                for login in demo_logins(home=settings.KEEL_HOME)
            ]
        return "\n".join(lines) + "\n"


def _listening(*, host: str, port: int, process: subprocess.Popen, stop: threading.Event) -> bool:
    """Whether the server came up: False if it exited or was stopped first. No deadline:
    loading the models before listening takes seconds, minutes on a busy machine, and a
    server that listened after one ran on without its logins ever printed."""
    while process.poll() is None and not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            stop.wait(timeout=0.2)
    return False
