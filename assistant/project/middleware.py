from assistant.common.metrics import HTTP_REQUESTS


class RequestCountMiddleware:
    """Counts every HTTP response for Prometheus, by method and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        HTTP_REQUESTS.labels(request.method, str(response.status_code)).inc()
        return response
