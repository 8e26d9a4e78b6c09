"""The worker's jobs for e-mail tickets (Procrastinate; listed in PROCRASTINATE_IMPORT_PATHS)."""

from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app

from assistant.tickets.notifications import waits_notify
from assistant.tickets.sending import SENDING_FAILED, ticket_mail_send

# A mail server down for a while: tried again after about 30 s, 40 s, 1 min, 2 min, 5 min,
# 13 min and 37 min, then left failed (its status and error on the ticket's mail).
MAIL_RETRY = RetryStrategy(
    max_attempts=7, wait=30, exponential_wait=3, retry_exceptions=set(SENDING_FAILED)
)


@app.task(queue="mail", retry=MAIL_RETRY, pass_context=True)
def ticket_mail_send_job(context: JobContext, *, mail_id: int) -> None:
    # Procrastinate counts the attempts before this one; after the last, no retry.
    ticket_mail_send(mail_id=mail_id, last_attempt=context.job.attempts >= MAIL_RETRY.max_attempts)


@app.periodic(cron="* * * * *")
@app.task(queue="mail", queueing_lock="waits_notify")
def waits_notify_job(timestamp: int) -> None:
    waits_notify()
