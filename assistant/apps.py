from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = "Keel assistant"

    def ready(self) -> None:
        from assistant import (  # noqa: F401 (signal receivers and system checks)
            events,
            quarantine,
            vault,
            website_audit,
        )
