"""Keel behind its own reverse proxy: Debian's nginx runs `docker/nginx.conf` as shipped,
but for where it listens, its certificate and cache, and where Keel is (a test cannot
have Docker's DNS), in front of a real daphne started as the image starts it
(`--proxy-headers`, BEHIND_TLS_PROXY=1). What the file promises is checked through it:
plain HTTP sent to HTTPS, HTTPS known to Keel (HSTS), private uploads never served,
static files cached, the upload limit at the edge, and the chat socket upgraded, with
Keel's own pages allowed and other sites refused."""

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from assistant.common.threads import in_thread
from tests.conftest import daphne_start, free_port, wait_for_port
from tests.support.chat import ChatClient
from tests.support.factories import WorkspaceFactory

CONFIG = Path(__file__).resolve().parent.parent / "docker" / "nginx.conf"
CLOSE_FORBIDDEN = 4403


def config_for_test(*, folder: Path, http_port: int, https_port: int, keel_port: int) -> str:
    """The shipped file with the lines only a test changes replaced (each must be there)."""
    text = CONFIG.read_text()
    for shipped, here in [
        ("listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;"),
        ("listen 443 ssl default_server;", f"listen 127.0.0.1:{https_port} ssl default_server;"),
        ("/etc/nginx/certs/", f"{folder}/"),
        ("/var/cache/nginx/static", f"{folder}/cache"),
        ("set $keel http://web:8000;", f"set $keel http://127.0.0.1:{keel_port};"),
    ]:
        assert shipped in text, f"docker/nginx.conf no longer says {shipped!r}"
        text = text.replace(shipped, here)
    return text


def certificate_make(folder: Path) -> None:
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"),
            *("-keyout", folder / "privkey.pem", "-out", folder / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def keel_behind_nginx(transactional_db, tmp_path):
    """(http URL, https URL, TLS context trusting the test certificate)."""
    if shutil.which("nginx") is None:
        pytest.fail("nginx is missing: `make system-deps` installs it")
    keel_port, http_port, https_port = free_port(), free_port(), free_port()
    keel = daphne_start(port=keel_port, arguments=("--proxy-headers",), BEHIND_TLS_PROXY="1")
    certificate_make(tmp_path)
    (tmp_path / "keel.conf").write_text(
        config_for_test(
            folder=tmp_path, http_port=http_port, https_port=https_port, keel_port=keel_port
        )
    )
    (tmp_path / "nginx.conf").write_text(
        f"""daemon off;
user root;
pid {tmp_path}/nginx.pid;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/keel.conf;
}}
"""
    )
    nginx = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", "stderr"]
    )
    try:
        wait_for_port(keel, keel_port, name="daphne")
        wait_for_port(nginx, https_port, name="nginx")
        tls = ssl.create_default_context(cafile=tmp_path / "fullchain.pem")
        yield f"http://localhost:{http_port}", f"https://localhost:{https_port}", tls
    finally:
        for process in (nginx, keel):
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.asyncio
@pytest.mark.processes
async def test_keel_behind_the_shipped_nginx_config(keel_behind_nginx):
    plain, secure, tls = keel_behind_nginx
    async with httpx.AsyncClient(verify=tls, trust_env=False, timeout=60) as http:
        redirected = await http.get(f"{plain}/health/")
        assert redirected.status_code == 301
        assert redirected.headers["location"] == "https://localhost/health/"

        health = await http.get(f"{secure}/health/")
        assert health.status_code == 200
        # Keel knows the request came over HTTPS (X-Forwarded-Proto), so it sends HSTS.
        assert health.headers["strict-transport-security"].startswith("max-age=")

        assert (await http.get(f"{secure}/media/knowledge/contract.pdf")).status_code == 404

        first = await http.get(f"{secure}/static/keel/widget.js")
        again = await http.get(f"{secure}/static/keel/widget.js")
        assert first.status_code == again.status_code == 200
        assert again.headers["x-cache-status"] == "HIT"
        assert again.content == first.content

        too_big = await http.post(f"{secure}/", content=b"x" * 23_000_000)
        assert too_big.status_code == 413

    workspace = await in_thread(WorkspaceFactory)(allowed_origins=["https://shop.example"])
    # Keel's own pages (the demo site, the admin preview) are on its https origin.
    own = ChatClient(workspace.public_key, server=secure, tls=tls)
    assert await own.connect()
    assert "data-visitor=" in await own.hello()
    await own.close()
    company = ChatClient(
        workspace.public_key, server=secure, origin="https://shop.example", tls=tls
    )
    assert await company.connect()
    await company.close()
    elsewhere = ChatClient(
        workspace.public_key, server=secure, origin="https://elsewhere.example", tls=tls
    )
    assert not await elsewhere.connect()
