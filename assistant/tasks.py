"""Background jobs of the conversations side (Procrastinate, on PostgreSQL)."""

from procrastinate.contrib.django import app

from assistant.common.threads import in_thread
from assistant.conversations.services import (
    interrupted_answers_fail,
    transcripts_expired_purge,
    vault_expired_purge,
)
from assistant.evaluation.policy_checks import policy_check_run
from assistant.evaluation.runs import evaluation_run
from assistant.models import EvalRun, PolicyCheck


@app.periodic(cron="17 * * * *")
@app.task(queue="maintenance", queueing_lock="retention_purge")
def retention_purge_job(timestamp: int) -> None:
    """What the policies say not to keep any longer: personal data, then transcripts."""
    vault_expired_purge()
    transcripts_expired_purge()


@app.periodic(cron="* * * * *")
@app.task(queue="maintenance", queueing_lock="interrupted_answers_fail")
def interrupted_answers_fail_job(timestamp: int) -> None:
    interrupted_answers_fail()


@app.task(queue="checks", retry=2)
async def policy_check_job(*, check_id: int) -> None:
    check = await in_thread(
        PolicyCheck.objects.select_related("policy").filter(pk=check_id).first
    )()
    if check is not None:  # deleted with its draft while it waited
        await policy_check_run(check=check)


@app.task(queue="checks", retry=2)
async def evaluation_job(*, run_id: int) -> None:
    run = await in_thread(EvalRun.objects.select_related("workspace").filter(pk=run_id).first)()
    if run is not None and run.status != EvalRun.Status.FINISHED:
        await evaluation_run(run=run)
