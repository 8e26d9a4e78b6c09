"""The demo workspace `make run` opens: Trailhead Cycles, a fictional bike shop."""

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from assistant.models import EvalCase, Membership, PolicyVersion, Workspace
from knowledge.models import KnowledgeBase

DEMO_WORKSPACE_SLUG = "demo"
DEMO_KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "demo" / "help-center"
# Questions written for the help center, each with the article that answers it.
DEMO_QUESTIONS = DEMO_KNOWLEDGE_DIR.parent / "questions.json"
DEMO_OTHER_CASES = [
    ("Do you sell skateboards?", EvalCase.Expected.DONT_KNOW),
    ("What is the capital of Australia?", EvalCase.Expected.DONT_KNOW),
    ("Can I pay with cryptocurrency?", EvalCase.Expected.DONT_KNOW),
    ("I want to talk to a real person, please.", EvalCase.Expected.ESCALATE),
    ("My lawyer will contact you about my broken frame.", EvalCase.Expected.ESCALATE),
]


DEMO_POLICY = {
    "assistant_name": "Trailhead Helper",
    "persona": "a cheerful bike mechanic who knows the shop's help center by heart",
    "topics_in_scope": (
        "orders and shipping\nreturns and refunds\nour bikes, e-bikes and accessories\n"
        "sizing\ne-bike batteries\nour stores"
    ),
    "topics_refused": (
        PolicyVersion._meta.get_field("topics_refused").default
        + "\nTampering and unsafe repairs: bypass the speed limiter; remove the speed limit; "
        "disable the battery management system; loosen someone's brakes"
    ),
    "competitors": "Velocita Bikes\nRideNow\nPedalwerk",
    # Besides Keel's built-in rules (a person, a legal threat, a device on fire...): the
    # shop's own dangers, each with what to do before anyone answers.
    "escalation_rules": (
        "E-bike battery danger: my e-bike battery is swelling; the battery smells of burning; "
        "sparks came out of the charger | not: how long does the battery take to charge; "
        "how should I store the battery in winter | say: Stop charging, unplug the charger "
        "and keep away from the battery; if you safely can, move the bike outside, away from "
        "anything that can burn. If there is smoke or fire, leave and call your local "
        "emergency number first.\n"
        "Crash or brake failure: my brakes failed and I crashed; the fork snapped while I was "
        "riding | not: how often should I replace brake pads | say: If anyone is hurt, call "
        "your local emergency number first. Please don't ride the bike again until it has "
        "been checked."
    ),
    "banned_phrases": "guaranteed forever\nlifetime free replacement\ncheap junk",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Membership.Role


# One login per role, so the console can be tried as an agent beside an admin.
DEMO_ROLES = {"admin": Membership.Role.ADMIN, "agent": Membership.Role.AGENT}


def demo_logins(*, home: Path) -> list[DemoLogin]:
    """The demo's logins, with the random passwords kept under `home` (readable by their
    owner only) so every run can print them again; created on first use."""
    logins = []
    for username, role in DEMO_ROLES.items():
        password_file = home / f"demo-{username}-password"
        if not password_file.exists():
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(secrets.token_urlsafe(12) + "\n")
            password_file.chmod(0o600)
        logins.append(
            DemoLogin(username=username, password=password_file.read_text().strip(), role=role)
        )
    return logins


def demo_workspace_ensure(*, home: Path) -> list[DemoLogin]:
    """Create the demo workspace, knowledge base, admin and agent once; later runs change
    nothing but a password that no longer matches its file."""
    logins = demo_logins(home=home)
    with transaction.atomic():
        workspace, _ = Workspace.objects.get_or_create(
            slug=DEMO_WORKSPACE_SLUG,
            defaults={
                "name": "Trailhead Cycles",
                "assistant_name": "Trailhead Helper",
                "greeting": (
                    "Hi! I'm the Trailhead Cycles assistant. Ask me about orders, shipping, "
                    "returns, sizing, e-bike batteries or our stores."
                ),
                "brand_colour": "#2f6b3a",
                "domains": ["trailhead-cycles.example"],
            },
        )
        PolicyVersion.objects.get_or_create(workspace=workspace, number=1, defaults=DEMO_POLICY)
        KnowledgeBase.objects.get_or_create(
            workspace=workspace, slug="help-center", defaults={"name": "Help center"}
        )
        if not EvalCase.objects.filter(workspace=workspace).exists():
            EvalCase.objects.bulk_create(demo_cases(workspace=workspace))
        for login in logins:
            user, created = get_user_model().objects.get_or_create(
                username=login.username,
                defaults={"email": f"{login.username}@trailhead-cycles.example"},
            )
            if created or not user.check_password(login.password):
                user.set_password(login.password)
                user.save()
            Membership.objects.get_or_create(
                user=user, workspace=workspace, defaults={"role": login.role}
            )
    return logins


def demo_cases(*, workspace: Workspace) -> list[EvalCase]:
    """The demo's golden suite: every demo question, answered from its article, and a few
    it must not answer or must pass to a person."""
    questions = json.loads(DEMO_QUESTIONS.read_text())
    return [
        *(
            EvalCase(
                workspace=workspace,
                question=case["question"],
                expected=EvalCase.Expected.ANSWER,
                expected_documents=[case["document"]],
            )
            for case in questions
        ),
        *(
            EvalCase(workspace=workspace, question=question, expected=expected)
            for question, expected in DEMO_OTHER_CASES
        ),
    ]
