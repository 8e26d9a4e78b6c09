"""For the people who run Keel: a health check for load balancers, and Prometheus metrics
behind a token (`KEEL_METRICS_TOKEN`; without one the endpoint does not exist)."""

import hmac

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


@require_GET
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def metrics(request):
    token = settings.KEEL_METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set KEEL_METRICS_TOKEN to turn them on.")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse("A valid bearer token is required.", status=401)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
