import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from assistant.project.routing import websocket_urlpatterns  # noqa: E402
from assistant.project.warmup import answer_path_warm  # noqa: E402
from knowledge.embeddings import SERVER_THREADS, embedding_threads_set  # noqa: E402

# Before any request thread embeds: each keeps the count it started with.
embedding_threads_set(threads=SERVER_THREADS)
# Before the server listens, so no customer waits for a model to load.
answer_path_warm()

# The chat socket checks its own origins per workspace (assistant.widget.origins), so no
# AllowedHostsOriginValidator here: a company's site is not one of Keel's hosts.
application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)}
)
