"""Keel's models, one module per feature, all under the one app label "assistant"."""

from assistant.models.audit import (  # noqa: F401
    AuditEvent,
)
from assistant.models.conversations import (  # noqa: F401
    Citation,
    Conversation,
    Feedback,
    Message,
    VaultEntry,
)
from assistant.models.evaluation import (  # noqa: F401
    EvalCase,
    EvalResult,
    EvalRun,
    PolicyCheck,
    PolicyCheckResult,
)
from assistant.models.handoffs import (  # noqa: F401
    AgentNote,
    AgentPresence,
    Handoff,
)
from assistant.models.insights import (  # noqa: F401
    GapArticle,
)
from assistant.models.people import (  # noqa: F401
    Invitation,
)
from assistant.models.policies import (  # noqa: F401
    PERSONAL_DATA_KINDS,
    PolicyVersion,
    personal_data_kinds_all,
)
from assistant.models.tickets import (  # noqa: F401
    NotificationPreference,
    TicketMail,
    WaitNotification,
)
from assistant.models.workspaces import (  # noqa: F401
    Membership,
    Workspace,
    identity_secret_new,
    public_key_new,
)
