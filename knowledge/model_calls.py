"""No model call inside a database transaction: an embedding or an LLM's answer takes from
milliseconds to a minute, and a transaction held open that long keeps its row locks and
its connection from everyone else. Where `KEEL_MODEL_CALLS_CHECKED` is on (the tests), a
call made inside an atomic block raises; a test case's own transaction does not count
(Django marks the blocks it opens for a `TestCase`)."""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection


class ModelCallInTransaction(Exception):
    """A model was called while a transaction was open: move the call out of it."""


def model_call_check(*, model: str) -> None:
    """Raises when `model` is called inside a transaction of this thread's connection."""
    if settings.KEEL_MODEL_CALLS_CHECKED and any(
        not block._from_testcase for block in connection.atomic_blocks
    ):
        raise ModelCallInTransaction(f"{model} called inside a transaction.")


async def model_call_check_async(*, model: str) -> None:
    """`model_call_check` for async code: on the thread that handed the work to the event
    loop (`async_to_sync`), whose connection may be inside a transaction."""
    if settings.KEEL_MODEL_CALLS_CHECKED:
        await sync_to_async(model_call_check, thread_sensitive=True)(model=model)
