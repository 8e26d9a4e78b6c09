import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateWorker

from assistant.models import Membership
from assistant.project.embedded_db import database_url
from assistant.widget.demo import DEMO_KNOWLEDGE_DIR, DEMO_WORKSPACE_SLUG
from knowledge.ingest import files_ingest, folder_files
from knowledge.models import Chunk, Document, KnowledgeBase
from tests.support.factories import KnowledgeBaseFactory, MembershipFactory, WorkspaceFactory

DATA_DIR = Path(__file__).parent / "data"


def url_of_test_database() -> str:
    """The test database, for the processes that tests start."""
    return database_url(
        socket_dir=connection.settings_dict["HOST"], database=connection.settings_dict["NAME"]
    )


# Lets the test thread call the ORM while Playwright's event loop runs in it (`browser`).
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def keel_process_environment(**more: str) -> dict[str, str]:
    """The environment of a Keel process a test starts: on the test database, and never
    with the test thread's leave to call the ORM from async code, so product code that
    does so fails there as it would in production."""
    inherited = {name: value for name, value in os.environ.items() if name != ASYNC_UNSAFE}
    return {
        **inherited,
        "DATABASE_URL": url_of_test_database(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        **more,
    }


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


_demo_indexed: dict[str, KnowledgeBase] = {}


@pytest.fixture(scope="module")
def demo_knowledge_base(django_db_setup, django_db_blocker):
    """The demo help center, indexed once per test process (real parsing, real embeddings),
    and again for a module that finds it gone: a transactional test that ran before it in
    the same process (pytest-xdist hands the files out in any order) empties the database.
    Module-scoped, so it is indexed before any test's own transaction begins."""
    with django_db_blocker.unblock():
        knowledge_base = _demo_indexed.get("knowledge_base")
        if knowledge_base and Chunk.objects.filter(knowledge_base_id=knowledge_base.pk).exists():
            return knowledge_base
        knowledge_base = KnowledgeBaseFactory(
            workspace=WorkspaceFactory(slug="demo-session", name="Trailhead Cycles"),
            slug="help-center",
        )
        list(
            files_ingest(knowledge_base=knowledge_base, paths=folder_files(path=DEMO_KNOWLEDGE_DIR))
        )
    _demo_indexed["knowledge_base"] = knowledge_base
    return knowledge_base


@pytest.fixture
def job_queue(transactional_db):
    """An empty Procrastinate queue, and a way to drain it with a real worker.

    Procrastinate's tables are not Django-managed, so test flushes leave them be; each test
    that uses the queue starts from an empty one.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_workers CASCADE"
        )

    def run_worker() -> None:
        with app.replace_connector(app.connector.get_worker_connector()):
            app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False)

    return run_worker


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Block third-party cookies, as more and more browsers do: the chat widget must not
    # depend on them.
    "--test-third-party-cookie-phaseout",
]


# Fixtures that start Keel's own processes (daphne, the worker) or a browser.
PROCESS_FIXTURES = {"browser", "keel_module_server", "keel_servers", "worker_process"}


def starts_processes(item: pytest.Item) -> bool:
    return (
        item.get_closest_marker("browser") is not None
        or item.get_closest_marker("processes") is not None
        or not PROCESS_FIXTURES.isdisjoint(item.fixturenames)
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The files that start a browser or Keel's own processes run first, each whole and in
    its own order: they are the longest, and `make test` hands files to its processes in
    this order (`--no-loadscope-reorder`), so one of them started last would leave one
    process running it alone at the end."""
    early_files = {item.path for item in items if starts_processes(item)}
    file_order = {}
    for item in items:
        file_order.setdefault(item.path, len(file_order))
    items.sort(key=lambda item: (item.path not in early_files, file_order[item.path]))


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright (its own browser downloads are not possible here)."""
    from playwright.sync_api import expect, sync_playwright

    # Waits that end in another process (a reload, the worker, a restarted Redis) can take
    # more than Playwright's five seconds on a loaded two-core CI machine.
    expect.set_options(timeout=15_000)
    # Playwright's sync API runs an event loop in this thread while the module's tests run
    # (hence module scope); the ORM calls the tests make around it are still synchronous.
    # Only this process has the leave: Keel itself runs in `keel_server`'s and
    # `worker_process`'s own processes, without it.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv(ASYNC_UNSAFE, "true")
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh tab; the test fails if the Content-Security-Policy blocked anything in it
    (Chromium reports each refusal on the console, the panel's frame included)."""
    context = browser.new_context()
    tab = context.new_page()
    refused = []
    tab.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refused.append(message.text),
    )
    yield tab
    context.close()
    assert not refused, refused


def demo_chat_open(page, *, knowledge_base, server: str):
    """The demo page on `server`, its chat opened for `knowledge_base`'s workspace (made
    the demo one); the panel and its question box."""
    workspace = knowledge_base.workspace
    workspace.slug = DEMO_WORKSPACE_SLUG
    workspace.save()
    page.goto(server + "/")
    page.get_by_role("button", name=f"Chat with {workspace.assistant_name}").click()
    panel = page.frame_locator("iframe#keel-panel")
    return panel, panel.get_by_role("textbox", name="Your question")


def log_in(page, *, url: str, membership: Membership) -> None:
    """Opens `url` in the browser, through the login page (factories' password)."""
    page.goto(url)
    page.get_by_label("Username").fill(membership.user.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def worker_process(job_queue):
    """A real `manage.py worker` process on the test database, stopped after the test; it
    loads the answer path before it takes jobs, as a server does before it listens."""
    process = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "worker"],
        env=keel_process_environment(),
    )
    wait_for_worker(process)
    yield process
    process.kill()
    process.wait()


_demo_rows: dict[str, list[dict]] = {}


@pytest.fixture
def demo_help_center(transactional_db):
    """The demo help center in a fresh workspace, for tests whose writes must really commit
    (sockets, threads). Indexed once per run with real parsing and embeddings, then copied
    row for row into each test's empty database."""
    knowledge_base = KnowledgeBaseFactory(
        workspace=WorkspaceFactory(name="Trailhead Cycles"), slug="help-center"
    )
    if not _demo_rows:
        list(
            files_ingest(knowledge_base=knowledge_base, paths=folder_files(path=DEMO_KNOWLEDGE_DIR))
        )
        _demo_rows["documents"] = list(
            Document.objects.filter(knowledge_base=knowledge_base).values()
        )
        _demo_rows["chunks"] = list(Chunk.objects.filter(knowledge_base=knowledge_base).values())
        return knowledge_base
    new_document_ids = {}
    for row in _demo_rows["documents"]:
        fields = {**row, "knowledge_base_id": knowledge_base.pk}
        old_id = fields.pop("id")
        new_document_ids[old_id] = Document.objects.create(**fields).pk
    Chunk.objects.bulk_create(
        Chunk(
            **{
                **{k: v for k, v in row.items() if k not in {"id", "search"}},
                "knowledge_base_id": knowledge_base.pk,
                "document_id": new_document_ids[row["document_id"]],
            }
        )
        for row in _demo_rows["chunks"]
    )
    return knowledge_base


@pytest.fixture
def chat_state():
    """Fresh rate-limit counts, channel layer and answer backend for each socket test:
    each test runs in its own event loop, and some change the settings these read."""
    from channels.layers import channel_layers

    from assistant.answering.llm import answer_backend
    from assistant.common.ratelimits import _limiter

    _limiter.cache_clear()
    channel_layers.backends.clear()
    answer_backend.cache_clear()
    yield
    _limiter.cache_clear()
    channel_layers.backends.clear()
    answer_backend.cache_clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


# Importing torch and the model takes seconds, many more on a busy two-core machine.
SERVER_START_SECONDS = 120


def wait_for_worker(process: subprocess.Popen) -> None:
    """Until the worker has registered (`procrastinate_workers`), its models loaded."""
    _wait_until(process, ProcrastinateWorker.objects.exists, name="the worker", ready="started")


def wait_for_port(process: subprocess.Popen, port: int, *, name: str) -> None:
    """Until `process` listens on `port`."""
    _wait_until(process, lambda: port_open(port), name=name, ready=f"listened on port {port}")


def _wait_until(process: subprocess.Popen, condition, *, name: str, ready: str) -> None:
    """Until `condition()`; fails the test if `process` exits first or is too slow."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"{name} exited with code {process.returncode} before it {ready}")
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"{name} had not {ready} within {SERVER_START_SECONDS} s")


# Daphne as Keel runs it (assistant.project.server); open sockets would hold shutdown for
# its default 10 s.
DAPHNE = [
    sys.executable,
    "-m",
    "assistant.project.server",
    "-b",
    "127.0.0.1",
    "--application-close-timeout",
    "2",
]


def daphne_start(
    *, port: int, output=None, arguments: tuple[str, ...] = (), **environment: str
) -> subprocess.Popen:
    """A daphne process serving Keel on the test database; the caller stops it. `output`:
    a file for what it prints (its logs), else the test's own output; `arguments`: more
    of daphne's own."""
    return subprocess.Popen(
        [*DAPHNE, "-p", str(port), *arguments, "assistant.project.asgi:application"],
        env=keel_process_environment(**environment),
        stdout=output,
        stderr=output,
    )


@pytest.fixture
def keel_servers(transactional_db):
    """Starts `count` real daphne processes serving Keel (HTTP and websockets) on the test
    database, side by side, with extra environment (`REDIS_URL`...); returns their URLs.
    All are stopped after the test."""
    processes = []

    def start(count: int, **environment: str) -> list[str]:
        ports = [free_port() for _ in range(count)]
        started = [daphne_start(port=port, **environment) for port in ports]
        processes.extend(started)
        for process, port in zip(started, ports, strict=True):
            wait_for_port(process, port, name="daphne")
        return [f"http://localhost:{port}" for port in ports]

    yield start
    processes_stop(processes)


def processes_stop(processes: list[subprocess.Popen]) -> None:
    """Asks each process to stop, and kills those still running 10 s later: stopping well
    is test_shutdown's to check; here a loaded machine must not fail a test that passed."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def keel_module_server(django_db_setup):
    """One daphne process serving Keel on the test database for a whole module: starting
    one (torch, the model) is the slow part of a browser test."""
    port = free_port()
    process = daphne_start(port=port)
    wait_for_port(process, port, name="daphne")
    yield f"http://localhost:{port}"
    processes_stop([process])


@pytest.fixture
def keel_server(transactional_db, keel_module_server):
    """Keel served by a real daphne process with the in-memory channel layer, the same for
    all the module's tests that use it. It reads the database per request, so each test's
    flush leaves it nothing stale; what it keeps in memory (rate-limit counts per IP,
    visitor and socket, channel groups) belongs to the visitors and sockets of a test's own
    browser context. A test that needs other settings starts its own with `keel_servers`."""
    return keel_module_server


class RedisServer:
    """A real redis-server on loopback with nothing written to disk; stopped and started
    again on the same port to test what Keel does while Redis is away."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.process, self.port, name="redis-server")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def keel_environment(self, **more: str) -> dict[str, str]:
        """Keel's settings for processes that share this Redis, plus `more`."""
        return {"REDIS_URL": self.url, "KEEL_RATE_LIMIT_STORAGE": f"async+{self.url}", **more}


@pytest.fixture
def redis_server(tmp_path):
    """Debian's redis-server (`make system-deps` installs it), on a free port."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: `make system-deps` installs it")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def keel_cluster(redis_server, keel_servers):
    """Two Keel processes sharing one Redis: the channel layer and the rate limits."""
    return keel_servers(2, **redis_server.keel_environment())


@pytest.fixture
def llm_server(settings):
    """An OpenAI-compatible test server, and Keel configured to answer with it."""
    from assistant.answering.llm import answer_backend
    from bench.llm_server import FakeLLMServer

    with FakeLLMServer() as server:
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_MODEL = "test-model"
        settings.LLM_API_KEY = "test-key"
        settings.LLM_TIMEOUT_SECONDS = 2
        answer_backend.cache_clear()
        yield server
    answer_backend.cache_clear()
