"""The publish gate's checks, test cases, and evaluation runs with their results."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from assistant.models.conversations import Message
from assistant.models.policies import PolicyVersion
from assistant.models.workspaces import Workspace


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
