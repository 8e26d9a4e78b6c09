"""The demo `make run` opens: an admin and an agent login, printed once the server listens."""

import signal
import subprocess
import sys
from io import StringIO
from urllib.request import urlopen

import pytest
from django.core.management import call_command
from django.urls import reverse

from assistant.models import Membership
from assistant.widget.demo import DEMO_WORKSPACE_SLUG
from tests.conftest import free_port, keel_process_environment


def test_demo_setup_makes_an_admin_and_an_agent_once(db, client, settings, tmp_path):
    settings.KEEL_HOME = tmp_path
    call_command("demo_setup", stdout=StringIO())
    call_command("demo_setup", stdout=StringIO())

    memberships = Membership.objects.filter(workspace__slug=DEMO_WORKSPACE_SLUG)
    assert {(m.user.username, m.role) for m in memberships} == {
        ("admin", Membership.Role.ADMIN),
        ("agent", Membership.Role.AGENT),
    }
    agent_password = (tmp_path / "demo-agent-password").read_text().strip()
    client.post(reverse("login"), {"username": "agent", "password": agent_password})
    assert client.get(reverse("console", args=[DEMO_WORKSPACE_SLUG])).status_code == 200
    assert client.get(reverse("policy", args=[DEMO_WORKSPACE_SLUG])).status_code == 403


@pytest.mark.processes
def test_make_run_prints_the_logins_last_once_the_server_listens(
    transactional_db, settings, tmp_path
):
    settings.KEEL_HOME = tmp_path
    call_command("demo_setup", stdout=StringIO())
    port = free_port()
    manage = str(settings.BASE_DIR / "manage.py")
    process = subprocess.Popen(
        [sys.executable, manage, "serve", "--demo", "--port", str(port)],
        env=keel_process_environment(KEEL_HOME=str(tmp_path)),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip())
            if line.startswith("  agent"):
                break
        # It was printed after the server listened: the page answers.
        with urlopen(f"http://127.0.0.1:{port}/health/") as response:
            assert response.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    passwords = {
        role: (tmp_path / f"demo-{role}-password").read_text().strip()
        for role in ("admin", "agent")
    }
    assert "Keel is running (Ctrl-C stops it):" in lines
    assert f"  admin  admin / {passwords['admin']}" in lines
    assert f"  agent  agent / {passwords['agent']}" in lines
    assert lines.index(f"  agent  agent / {passwords['agent']}") == len(lines) - 1
