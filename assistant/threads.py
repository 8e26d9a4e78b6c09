"""Synchronous work (the ORM, the embedding model) called from async code.

Runs on the thread pool, so one slow question holds up no other, and closes the thread's
database connection when done. The close must happen inside the call: asgiref runs the
function in a copy of the caller's context, where the connection it opened lives, so
Channels' own clean-up after the call does not see it (connections leaked until the
test database refused to drop).
"""

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

P = ParamSpec("P")
R = TypeVar("R")


def in_thread(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    @wraps(function)
    def closing_connections(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(closing_connections, thread_sensitive=False)
