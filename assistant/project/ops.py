"""For the people who run Keel: a health check for load balancers, and Prometheus metrics
behind a token (`KEEL_METRICS_TOKEN`; without one the endpoint does not exist)."""

import hmac

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


@require_GET
def health(request):
    """The database, and Redis when several processes share it (`REDIS_URL`): 503 if
    either is unreachable, so a load balancer stops sending work the process cannot do."""
    checks = {"database": _database_check()}
    if settings.REDIS_URL:
        checks["redis"] = _redis_check()
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "unreachable"
    return "ok"


def _redis_check() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=settings.REDIS_CONNECT_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError:
        return "unreachable"
    finally:
        client.close()
    return "ok"


@require_GET
def metrics(request):
    token = settings.KEEL_METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set KEEL_METRICS_TOKEN to turn them on.")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse("A valid bearer token is required.", status=401)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
