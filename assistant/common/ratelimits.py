"""Rate limits for the public chat socket, with the `limits` library (moving windows):
sockets per IP; messages per IP, per visitor and per socket (see `KEEL_RATE_LIMITS`).

Storage is in process memory by default; with several server processes, point
`KEEL_RATE_LIMIT_STORAGE` at Redis (`async+redis://...`) so they share the counts.
"""

from functools import cache

from django.conf import settings
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


@cache
def _limiter() -> MovingWindowRateLimiter:
    # redis-py (already there for the channel layer) rather than limits' default, coredis.
    # Storage failures raise limits' StorageError, which the sockets treat as Redis away.
    storage = storage_from_string(
        settings.KEEL_RATE_LIMIT_STORAGE,
        implementation="redispy",
        wrap_exceptions=True,
        **settings.REDIS_CLIENT_OPTIONS,
    )
    return MovingWindowRateLimiter(storage)


async def within_limit(*, rule: str, key: str) -> bool:
    """Counts one hit of `rule` (a name in `KEEL_RATE_LIMITS`) for `key`; False once over."""
    return await _limiter().hit(parse(settings.KEEL_RATE_LIMITS[rule]), rule, key)
