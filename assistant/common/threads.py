"""Between the event loop and the thread pool, both ways.

`in_thread`: synchronous work (the ORM, the embedding model) called from async code. Runs
on the thread pool, so one slow question holds up no other, and closes the thread's
database connection when done. The close must happen inside the call: asgiref runs the
function in a copy of the caller's context, where the connection it opened lives, so
Channels' own clean-up after the call does not see it (connections leaked until the
test database refused to drop).

`on_event_loop`: async code (a push through the channel layer) called from such a thread.
"""

import asyncio
import os
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import SyncToAsync, async_to_sync, sync_to_async
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


class ServerStopping(Exception):
    """The event loop that handed work to this thread has stopped: the process is exiting."""


# How often a thread waiting on the event loop checks that the loop still runs.
LOOP_CHECK_SECONDS = 0.5


def on_event_loop(function: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """`async_to_sync`, except that it gives up (ServerStopping) once the server's event
    loop has stopped, instead of waiting for it forever.

    A server told to stop (SIGTERM, on every deploy) stops its loop while request threads
    may still be at work: an answer being stored, say, whose push follows the commit.
    asgiref schedules that push on the stopped loop and waits (asgiref issue 545), and the
    interpreter, which joins the thread pool before exiting, never exited. Where no loop
    handed the work over (a command, a plain test), `async_to_sync` runs one of its own.
    """

    @wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        loop = _server_loop()
        if loop is None:
            return async_to_sync(function)(*args, **kwargs)
        if not loop.is_running():
            raise ServerStopping
        future = asyncio.run_coroutine_threadsafe(function(*args, **kwargs), loop)
        while True:
            try:
                return future.result(timeout=LOOP_CHECK_SECONDS)
            except TimeoutError:
                if not loop.is_running():
                    future.cancel()
                    raise ServerStopping from None

    return call


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The loop whose `sync_to_async` runs this thread, as asgiref records it; none if it
    is closed (long gone, as after an earlier test's) or another process's (a forked
    child's copy names its parent's)."""
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return None if loop is None or loop.is_closed() else loop
