from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = "Keel assistant"

    def ready(self) -> None:
        # Signal receivers and system checks.
        from assistant.conversations import events, vault  # noqa: F401
        from assistant.knowledge_admin import quarantine, website_audit  # noqa: F401
