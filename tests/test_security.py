"""Logins are throttled, staff pages carry a Content-Security-Policy, and production settings
refuse a weak SECRET_KEY and pass Django's deployment check."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from assistant.models import Membership
from tests.support.factories import CitationFactory, MembershipFactory

PASSWORD = "correct horse battery"  # tests.support.factories.UserFactory's


def log_in(client, username: str, password: str, *, ip: str = "203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@pytest.fixture
def member(db):
    return MembershipFactory(role=Membership.Role.AGENT).user


def test_wrong_passwords_lock_the_account_out_even_with_the_right_one(client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        refused = log_in(client, member.username, "guess")
        assert refused.status_code == 200 and "didn't match" in refused.content.decode()

    locked = log_in(client, member.username, "guess")
    assert locked.status_code == 429
    assert "logging in is paused for 15" in " ".join(locked.content.decode().split())
    # From another address, with the right password: still locked, no session.
    again = log_in(client, member.username, PASSWORD, ip="198.51.100.20")
    assert again.status_code == 429 and "_auth_user_id" not in client.session


def test_wrong_passwords_from_one_address_lock_that_address_out(client, member):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"someone-{attempt}", "guess")

    assert log_in(client, member.username, PASSWORD).status_code == 429
    # The account itself is not locked: from elsewhere its owner logs in.
    elsewhere = log_in(client, member.username, PASSWORD, ip="198.51.100.20")
    assert elsewhere.status_code == 302 and client.session["_auth_user_id"] == str(member.pk)


def test_a_right_password_before_the_limit_logs_in_and_starts_the_count_again(client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, member.username, "guess")
    assert log_in(client, member.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, member.username, "guess")
    assert log_in(client, member.username, PASSWORD).status_code == 302


def test_staff_pages_allow_only_keel_scripts_and_nonced_styles(admin_client, knowledge_base):
    page = admin_client.get(
        reverse("knowledge_base", args=[knowledge_base.workspace.slug, knowledge_base.slug])
    )
    policy = page["Content-Security-Policy"]
    # Directives come in no fixed order: each is read by its name.
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    html = page.content.decode()
    assert "hx-on" not in html and not re.search(r"<script(?![^>]*\ssrc=)", html)


def test_a_cited_source_styles_itself_only_with_its_nonce(client, db):
    citation = CitationFactory()
    public_key = citation.message.conversation.workspace.public_key
    page = client.get(reverse("cited_source", args=[public_key, citation.public_id]))

    nonce = re.search(r"<style nonce=\"([^\"]+)\">", page.content.decode()).group(1)
    assert f"style-src 'self' 'nonce-{nonce}'" in page["Content-Security-Policy"]


def production_env(**more: str) -> dict[str, str]:
    """A production-like environment: DEBUG off, behind the TLS proxy, an external database
    (not contacted by the checks)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECURE_COOKIES", "BEHIND_TLS_PROXY"}
    }
    return {
        **environment,
        "DJANGO_SETTINGS_MODULE": "assistant.project.settings",
        "DATABASE_URL": "postgres://keel@db.invalid:5432/keel",
        "ALLOWED_HOSTS": "keel.example",
        "BEHIND_TLS_PROXY": "1",
        "SECRET_KEY": "rW8-pQ2vZ9mK4xT7nB1cY6hJ3fL0sD5gA8eU2iO9wR4tV7yN1bM6kP3qX0zC5jH8",
        **more,
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_production_settings_pass_djangos_deployment_check():
    checked = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert checked.returncode == 0, checked.stderr
    assert "no issues" in checked.stdout


@pytest.mark.parametrize(
    "key", ["", "short-key", "django-insecure-" + "x9" * 30, "ab" * 40], ids=str
)
def test_a_weak_secret_key_stops_production_with_a_clear_message(key):
    refused = manage("check", env=production_env(SECRET_KEY=key))
    assert refused.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be a random string of at least 50" in (
        refused.stderr
    )


def test_a_development_machine_needs_no_secret_key():
    assert manage("check", env=production_env(SECRET_KEY="", DEBUG="1")).returncode == 0
