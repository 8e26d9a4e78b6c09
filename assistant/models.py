import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def public_key_new() -> str:
    """The key a company pastes into its site; public by design, so it grants nothing private."""
    return "pk_" + secrets.token_urlsafe(18)


def identity_secret_new() -> str:
    """The HMAC key a host site signs its customers' ids with; shown on staff pages only."""
    return secrets.token_urlsafe(32)


class Workspace(models.Model):
    """A tenant: one company or brand, with its own knowledge, staff and conversations."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # The chat widget.
    public_key = models.CharField(max_length=40, unique=True, default=public_key_new)
    identity_secret = models.CharField(max_length=64, default=identity_secret_new)
    allowed_origins = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="Sites that may embed the widget, e.g. https://www.example.com",
    )
    # What answers may send customers to (`assistant.rails.contacts`): the company's web
    # domains (their subdomains too) and its e-mail addresses and phone numbers.
    domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    contact_details = ArrayField(models.CharField(max_length=254), default=list, blank=True)
    # The name in the policy in force, kept here for the widget's templates.
    assistant_name = models.CharField(max_length=60, default="Assistant")
    greeting = models.CharField(
        max_length=300, default="Hi! Ask me anything about our products and services."
    )
    brand_colour = models.CharField(
        max_length=7,
        default="#2f6b3a",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #2f6b3a.")],
    )
    avatar = models.ImageField(upload_to="avatars/", blank=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "workspace"], name="one_membership_per_workspace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.workspace} · {self.role}"


# Each is a placeholder's kind ("[CARD_EXPIRY_1]", assistant/rails/personal_data.py); all
# are on in a new policy.
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


class Conversation(models.Model):
    """One customer's chat with a workspace, found again by their visitor key or verified id."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversations")
    visitor_key = models.CharField(max_length=64)
    customer_id = models.CharField(
        max_length=200, blank=True, help_text="The host site's user id, when it signed it."
    )

    class State(models.TextChoices):
        BOT = "bot", "With the assistant"
        WAITING = "waiting", "Waiting for a person"
        AGENT = "agent", "With a person"
        RESOLVED = "resolved", "Resolved"

    started_at = models.DateTimeField(auto_now_add=True)
    # An admin trying a policy draft, or a check of one: never a customer's conversation.
    sandbox = models.BooleanField(default=False)
    # Changed only by assistant.handoffs.transitions, which records and pushes every transition.
    state = models.CharField(max_length=10, choices=State.choices, default=State.BOT)
    # An evaluation's conversation answers under the version it evaluates.
    pinned_policy = models.ForeignKey(
        "PolicyVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_message_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "visitor_key", "-last_message_at"]),
            models.Index(fields=["workspace", "customer_id", "-last_message_at"]),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk} · {self.workspace}"


class Message(models.Model):
    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        ASSISTANT = "assistant", "Assistant"
        AGENT = "agent", "Agent"

    class Outcome(models.TextChoices):
        STREAMING = "streaming", "Being written"
        ANSWERED = "answered", "Answered from sources"
        DONT_KNOW = "dont_know", "Did not know"
        FAILED = "failed", "Could not answer"
        REFUSED = "refused", "Refused by a rail"
        HANDED_OFF = "handed_off", "Passed to a person"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Agent replies: who wrote it.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    # Customer questions: what was searched, which differs from the text for a follow-up.
    search_query = models.TextField(blank=True)
    # Assistant answers.
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    backend = models.CharField(max_length=100, blank=True)
    generation_error = models.TextField(blank=True)
    retrieval_ms = models.PositiveIntegerField(null=True)
    first_token_ms = models.PositiveIntegerField(null=True)
    total_ms = models.PositiveIntegerField(null=True)
    # How likely the answer is right, from retrieval and grounding signals (0 to 1).
    confidence = models.FloatField(null=True)
    # The policy it was answered under (None: no version published yet, the defaults).
    # A version with answers cannot be deleted alone, only with its whole workspace.
    policy = models.ForeignKey(
        PolicyVersion, on_delete=models.RESTRICT, null=True, related_name="answers"
    )
    # Customer questions: the escalation rule they match, for the handoff to a person.
    escalation_rule = models.CharField(max_length=200, blank=True)
    # A customer question sent while another was being answered: stored at once (redacted),
    # answered in its turn, even by a server started after this one stopped.
    queued = models.BooleanField(default=False)
    # Why the answer is what it is: passages retrieved, rail verdicts, generation, timings.
    trace = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class Citation(models.Model):
    """A numbered source of an answer, kept as it was cited even if the document changes."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="citations")
    marker = models.PositiveSmallIntegerField()
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    chunk = models.ForeignKey(
        "knowledge.Chunk", on_delete=models.SET_NULL, null=True, related_name="citations"
    )
    document = models.ForeignKey(
        "knowledge.Document", on_delete=models.SET_NULL, null=True, related_name="citations"
    )
    document_title = models.CharField(max_length=500)
    document_url = models.URLField(max_length=1000, blank=True)
    heading = models.TextField(blank=True)
    page = models.PositiveIntegerField(null=True)
    quote = models.TextField()
    score = models.FloatField()

    class Meta:
        ordering = ["marker"]
        constraints = [
            models.UniqueConstraint(fields=["message", "marker"], name="one_citation_per_marker")
        ]

    def __str__(self) -> str:
        return f"[{self.marker}] {self.document_title}"


class Feedback(models.Model):
    class Rating(models.TextChoices):
        UP = "up", "Helpful"
        DOWN = "down", "Not helpful"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="feedback")
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.rating} on message {self.message_id}"


class VaultEntry(models.Model):
    """A piece of personal data a customer wrote, sealed; the transcript holds its placeholder.

    Readable only by staff handling the conversation, and deleted after `expires_at`.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="vault_entries")
    placeholder = models.CharField(max_length=40)
    kind = models.CharField(max_length=20)
    sealed_value = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "placeholder"], name="one_vault_entry_per_placeholder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.placeholder} in message {self.message_id}"


class AuditEvent(models.Model):
    """One decision or change, for the record: what happened, to what, by whom, and why.

    `detail` never holds raw personal data: placeholders and kinds only.
    """

    class Kind(models.TextChoices):
        REDACTION = "redaction", "Personal data redacted"
        INJECTION = "injection", "Prompt injection detected"
        GROUNDING = "grounding", "Unsupported sentences removed"
        QUARANTINE = "quarantine", "Document passage quarantined"
        RELEASE = "release", "Quarantined passage released"
        REFUSED_TOPIC = "refused_topic", "Question on a refused topic"
        OUTPUT = "output", "Answer changed by an output rail"
        ESCALATION_FLAG = "escalation_flag", "Escalation rule matched"
        POLICY_DRAFT = "policy_draft", "Policy draft saved"
        POLICY_CHECK = "policy_check", "Policy draft checked"
        POLICY_PUBLISH = "policy_publish", "Policy published"
        POLICY_OVERRIDE = "policy_override", "Failing checks overridden"
        POLICY_RESTORE = "policy_restore", "Policy version restored"
        HANDOFF = "handoff", "Conversation state changed"
        VAULT_READ = "vault_read", "Personal data read by an agent"
        GAP_ARTICLE = "gap_article", "Article written for a content gap"
        WEBSITE_ADDED = "website_added", "Website source added"
        WEBSITE_REMOVED = "website_removed", "Website source removed"
        WEBSITE_SYNCED = "website_synced", "Website source synced"
        TEST_CASE = "test_case", "Test cases changed"
        DOCUMENT = "document", "Document changed"
        WIDGET_SETTINGS = "widget_settings", "Widget settings changed"
        IDENTITY_SECRET = "identity_secret", "Identity secret rotated"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, related_name="audit_events"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    detail = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} · {self.workspace} · {self.created_at:%Y-%m-%d %H:%M}"


class PolicyCheck(models.Model):
    """The workspace's test cases run against a policy draft, before it may be published."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Could not finish"

    policy = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="checks")
    # The draft's content when the check started: editing the draft makes the check stale.
    fingerprint = models.CharField(max_length=64)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    case_count = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"check {self.pk} of {self.policy}"


class PolicyCheckResult(models.Model):
    """One test case's verdict: what was asked, what was expected, what happened."""

    policy_check = models.ForeignKey(PolicyCheck, on_delete=models.CASCADE, related_name="results")
    case_id = models.CharField(max_length=40)
    category = models.CharField(max_length=40)
    question = models.TextField()
    expected = models.CharField(max_length=20)
    critical = models.BooleanField()
    passed = models.BooleanField()
    reason = models.TextField(blank=True)
    answer = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["passed", "-critical", "case_id"]
        constraints = [
            models.UniqueConstraint(fields=["policy_check", "case_id"], name="one_result_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {'pass' if self.passed else 'fail'}"


class Handoff(models.Model):
    """One passage of a conversation to a person: why, what they were told, who took it."""

    class Reason(models.TextChoices):
        ASKED = "asked", "Asked for a person"
        LOW_CONFIDENCE = "low_confidence", "The assistant was not sure"
        LOOP = "loop", "Same question after unhelpful answers"
        ANGRY = "angry", "The customer is upset"
        POLICY_RULE = "policy_rule", "A policy rule"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="handoffs"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reason_detail = models.CharField(max_length=200, blank=True)  # the rule's label, ...
    summary = models.TextField()
    suggested_reply = models.TextField(blank=True)
    confidence = models.FloatField(null=True)  # of the last answer before it
    language = models.CharField(max_length=10, blank=True)
    customer_email = models.EmailField(blank=True)  # no agent online: the ticket's address
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True)
    first_reply_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)  # resolved or handed back
    csat = models.PositiveSmallIntegerField(
        null=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        indexes = [models.Index(fields=["closed_at", "created_at"])]

    def __str__(self) -> str:
        return f"handoff {self.pk} of conversation {self.conversation_id}"


class AgentNote(models.Model):
    """An internal note on a conversation: staff only, never shown to the customer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on conversation {self.conversation_id}"


class AgentPresence(models.Model):
    """An open console socket: agents with one are online."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    last_seen = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} online in {self.workspace}"


class EvalCase(models.Model):
    """A question with what the assistant should do about it, for the evaluation harness.

    `expected` is the behaviour; for an answer, the documents it should come from (their
    titles) and the facts it must and must not contain."""

    class Expected(models.TextChoices):
        ANSWER = "answer", "Answer"
        DONT_KNOW = "dont_know", "Say it does not know"
        ESCALATE = "escalate", "Pass to a person"
        REFUSE = "refuse", "Refuse"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="eval_cases")
    # A short conversation: the customer's earlier messages, each answered before `question`.
    earlier_turns = ArrayField(models.TextField(max_length=4000), default=list, blank=True)
    question = models.TextField(max_length=4000)
    expected = models.CharField(max_length=10, choices=Expected.choices)
    expected_documents = ArrayField(models.CharField(max_length=500), default=list, blank=True)
    must_contain = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    must_not_contain = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.expected}: {self.question[:60]}"


class EvalRun(models.Model):
    """One run of a suite through the real pipeline, with its metrics."""

    class Suite(models.TextChoices):
        GOLDEN = "golden", "The workspace's test cases"
        REDTEAM = "redteam", "Keel's red-team suite"
        ALL = "all", "Both"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Could not finish"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="eval_runs")
    suite = models.CharField(max_length=10, choices=Suite.choices)
    policy = models.ForeignKey(
        PolicyVersion, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    case_count = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    judge_model = models.CharField(max_length=200, blank=True)  # the LLM that judged, if any
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"evaluation {self.pk} ({self.suite}) of {self.workspace}"


class EvalResult(models.Model):
    """What one case got: the behaviour, the documents found and cited, the verdict."""

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    case_key = models.CharField(max_length=40)  # "case-<pk>" or a red-team id
    suite = models.CharField(max_length=10)
    category = models.CharField(max_length=40, blank=True)
    question = models.TextField()
    expected = models.CharField(max_length=20)  # a case's, or a red-team "answer_safely"
    behaviour = models.CharField(max_length=10)
    expected_documents = models.JSONField(default=list)
    retrieved_documents = models.JSONField(default=list)  # in rank order
    cited_documents = models.JSONField(default=list)
    facts_ok = models.BooleanField(null=True)  # must / must-not contain; None: none given
    passed = models.BooleanField()
    reason = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True)
    # An LLM judge's share of the answer's claims the sources support; None: not judged.
    faithfulness = models.FloatField(null=True)
    answer = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["passed", "case_key"]

    def __str__(self) -> str:
        return f"{self.case_key}: {'pass' if self.passed else 'fail'}"


class GapArticle(models.Model):
    """A knowledge article written to close a content gap: the questions it answers, so
    they leave the list of gaps, and the document it became."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    document = models.ForeignKey(
        "knowledge.Document", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    questions = models.ManyToManyField(Message, related_name="gap_articles")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title
