"""The policy: numbered versions of what the assistant must follow, and one draft."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from assistant.models.workspaces import Workspace

PERSONAL_DATA_KINDS = [
    ("EMAIL", _("E-mail addresses")),
    ("PHONE", _("Phone numbers")),
    ("CARD", _("Payment card numbers")),
    ("CARD_EXPIRY", _("Card expiry dates")),
    ("SECURITY_CODE", _("Card security codes (CVV, CVC)")),
    ("IBAN", _("Bank accounts (IBAN)")),
    ("SSN", _("US social security numbers")),
    ("PASSPORT", _("US passport numbers")),
    ("TAX_ID", _("US tax ids (ITIN)")),
    ("NHS_NUMBER", _("UK NHS numbers")),
    ("IP_ADDRESS", _("IP addresses")),
    ("BIRTH_DATE", _("Dates of birth")),
    ("ADDRESS", _("Street addresses and postcodes")),
    ("NAME", _("Names customers give for themselves")),
]


def personal_data_kinds_all() -> list[str]:
    return [kind for kind, _ in PERSONAL_DATA_KINDS]


class PolicyVersion(models.Model):
    """How the assistant must behave in a workspace, enforced in code by the rails.

    A workspace has at most one draft (`number` is None), edited and tried in a sandbox,
    and numbered versions, never changed once published: the highest one is in force.
    The list fields hold one entry per line; topic and escalation lines read
    "Label: example; another example" (see `policy_rules`).
    """

    class InjectionAction(models.TextChoices):
        REFUSE = "refuse", "Refuse, and say what the assistant can help with"
        ANSWER = "answer", "Answer from the sources only, ignoring the instructions"

    class ViolationAction(models.TextChoices):
        REMOVE = "remove", "Remove the offending sentence"
        REPLACE = "replace", "Replace the whole answer with a refusal"

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="policy_versions"
    )
    number = models.PositiveIntegerField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    override_reason = models.TextField(blank=True)

    assistant_name = models.CharField(max_length=60, default="Assistant")
    persona = models.TextField(
        max_length=1000,
        default="a friendly, knowledgeable member of the customer support team",
        help_text="Who the assistant is, in a phrase: “You are …”.",
    )
    tone = models.TextField(
        max_length=2000,
        default="Warm, brief and plain. Use the customer's words. No slang and no emojis.",
        help_text="Style instructions given to the language model.",
    )
    topics_in_scope = models.TextField(
        max_length=2000,
        default="orders and delivery\nreturns and refunds\nour products\nyour account",
        help_text="What the assistant helps with, one per line; named when it declines.",
    )
    topics_refused = models.TextField(
        max_length=5000,
        blank=True,
        default=(
            "Medical advice: what could this pain be; which medicine should I take; "
            "diagnose my symptoms\n"
            "Legal advice: can I sue my landlord; what does this contract clause mean "
            "for me legally\n"
            "Financial advice: which stocks should I buy; should I invest in crypto\n"
            "Politics: who should I vote for; what do you think of the election\n"
            "Homework and essays: write my essay; solve this equation; write code for me"
        ),
        help_text="Questions the assistant declines. One topic per line: "
        "“Label: example question; another example”.",
    )
    banned_phrases = models.TextField(
        max_length=5000,
        blank=True,
        help_text="Words or phrases an answer must never contain, one per line.",
    )
    competitors = models.TextField(
        max_length=2000,
        blank=True,
        help_text="Competitors an answer must never name, one per line.",
    )
    escalation_rules = models.TextField(
        max_length=5000,
        blank=True,
        help_text="Messages that must go to a person, besides the built-in rules. One rule "
        "per line: “Label: example message; another example”, then optionally "
        "“| not: a look-alike; another” and “| say: a safety message sent first”.",
    )
    builtin_rules_off = ArrayField(
        verbose_name="built-in rules switched off",
        base_field=models.CharField(max_length=40),
        default=list,
        blank=True,
        help_text="Keys of Keel's built-in escalation rules (assistant/rails/intents.py) and "
        "refused topics (assistant/rails/not_support.py) this policy does not use.",
    )
    personal_data_kinds = ArrayField(
        verbose_name="personal data to redact",
        base_field=models.CharField(max_length=20, choices=PERSONAL_DATA_KINDS),
        default=personal_data_kinds_all,
        blank=True,
    )
    injection_action = models.CharField(
        "when a message looks like an injection",
        max_length=10,
        choices=InjectionAction.choices,
        default=InjectionAction.REFUSE,
    )
    violation_action = models.CharField(
        "when an answer breaks a rule",
        max_length=10,
        choices=ViolationAction.choices,
        default=ViolationAction.REMOVE,
    )
    confidence_threshold = models.FloatField(
        default=0.20,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="How likely to be right an answer must be (0 to 1); below it the "
        "assistant says it does not know and offers a person.",
    )
    answer_max_words = models.PositiveSmallIntegerField(
        "longest answer, in words",
        default=120,
        validators=[MinValueValidator(20), MaxValueValidator(400)],
    )
    transcript_retention_days = models.PositiveIntegerField(
        "keep transcripts for (days)",
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    personal_data_retention_days = models.PositiveIntegerField(
        "keep redacted personal data for (days)",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    CONTENT_FIELDS = [
        "assistant_name",
        "persona",
        "tone",
        "topics_in_scope",
        "topics_refused",
        "banned_phrases",
        "competitors",
        "escalation_rules",
        "builtin_rules_off",
        "personal_data_kinds",
        "injection_action",
        "violation_action",
        "confidence_threshold",
        "answer_max_words",
        "transcript_retention_days",
        "personal_data_retention_days",
    ]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="one_version_number"),
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(number__isnull=True),
                name="one_policy_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workspace} policy {'draft' if self.number is None else self.number}"

    def content(self) -> dict:
        """What the policy says, without its bookkeeping: what drafts copy and diffs compare."""
        return {name: getattr(self, name) for name in self.CONTENT_FIELDS}
