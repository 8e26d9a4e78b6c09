from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from assistant.console.consumers import AgentConsumer
from assistant.widget.consumers import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/<str:public_key>/", ChatConsumer.as_asgi()),
    # Staff sockets carry the session cookie: only Keel's own pages may open them.
    path(
        "ws/console/<slug:workspace_slug>/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi())),
    ),
]
