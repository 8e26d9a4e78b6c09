from pathlib import Path

import pytest

from assistant.demo import DEMO_KNOWLEDGE_DIR
from assistant.models import Membership
from knowledge.ingest import file_ingest, folder_files
from tests.factories import KnowledgeBaseFactory, MembershipFactory, WorkspaceFactory

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture
def knowledge_base(db):
    return KnowledgeBaseFactory()


@pytest.fixture
def admin_membership(knowledge_base):
    return MembershipFactory(workspace=knowledge_base.workspace, role=Membership.Role.ADMIN)


@pytest.fixture
def admin_client(client, admin_membership):
    client.force_login(admin_membership.user)
    return client


@pytest.fixture(scope="session")
def demo_knowledge_base(django_db_setup, django_db_blocker):
    """The demo help center, indexed once per test run (real parsing, real embeddings)."""
    with django_db_blocker.unblock():
        knowledge_base = KnowledgeBaseFactory(
            workspace=WorkspaceFactory(slug="demo-session", name="Trailhead Cycles"),
            slug="help-center",
        )
        for path in folder_files(path=DEMO_KNOWLEDGE_DIR):
            file_ingest(knowledge_base=knowledge_base, path=path)
    return knowledge_base
