"""Starting evaluation runs: from the command line (run here and now) or from a Keel page
(queued for a worker once the run is stored)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from assistant.conversations.selectors import policy_draft, policy_in_force
from assistant.evaluation.judge import judge_backend
from assistant.evaluation.runs import evaluation_items
from assistant.models import EvalRun, Workspace
from assistant.tasks import evaluation_job


def evaluation_start(
    *,
    workspace: Workspace,
    suite: str,
    draft: bool,
    judged: bool = False,
    actor: AbstractBaseUser | None = None,
) -> EvalRun:
    """A run of `suite` under the draft (or, without one, what is in force) or the version
    in force; judged by the configured LLM when asked and one is configured."""
    policy = (draft and policy_draft(workspace_id=workspace.pk)) or policy_in_force(
        workspace_id=workspace.pk
    )
    judge = judge_backend() if judged else None
    return EvalRun.objects.create(
        workspace=workspace,
        suite=suite,
        policy=policy if policy.pk else None,
        started_by=actor,
        case_count=len(evaluation_items(workspace_id=workspace.pk, suite=suite)),
        judge_model=judge.model if judge else "",
    )


def evaluation_queue(
    *, workspace: Workspace, suite: str, draft: bool, judged: bool, actor: AbstractBaseUser
) -> EvalRun:
    with transaction.atomic():
        run = evaluation_start(
            workspace=workspace, suite=suite, draft=draft, judged=judged, actor=actor
        )
        transaction.on_commit(lambda: evaluation_job.defer(run_id=run.pk))
    return run
