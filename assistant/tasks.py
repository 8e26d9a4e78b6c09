"""Background jobs of the conversations side (Procrastinate, on PostgreSQL)."""

from procrastinate.contrib.django import app

from assistant.conversations import vault_expired_purge


@app.periodic(cron="17 * * * *")
@app.task(queue="maintenance", queueing_lock="vault_expired_purge")
def vault_expired_purge_job(timestamp: int) -> None:
    vault_expired_purge()
