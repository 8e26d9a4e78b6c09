from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = "Keel assistant"

    def ready(self) -> None:
        from assistant import (
            quarantine,  # noqa: F401 (connects its signal receiver)
            vault,  # noqa: F401 (registers its system check)
        )
