import pytest

from tests.support.walk import walk_served


@pytest.fixture(scope="module")
def walk(django_db_setup, django_db_blocker, browser):
    """The walk's server, worker and objects, once per module (each file of this folder
    runs in its own test process); the objects are removed afterwards."""
    yield from walk_served(blocker=django_db_blocker)
