"""The dependency-free HTTP/1.1 server, ``EmulatorServer``, the plain ASGI app, and the command line."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys

import httpx
import pytest

from cerebras_adapters.cli import main
from cerebras_adapters.testing import EmulatorServer, create_app
from tests.emulator._helpers import KEY, chunks, user

BODY = json.dumps({"model": "llama3.1-8b", "messages": user("What is 2+2?")}).encode()


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read one Content-Length response from a raw socket: (head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = int(next(line.split(b":")[1] for line in lines if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += sock.recv(65536)
    return head, rest[:length]


def _request(body: bytes, extra: bytes = b"", version: bytes = b"HTTP/1.1") -> bytes:
    return (
        b"POST /v1/chat/completions "
        + version
        + b"\r\nHost: x\r\nAuthorization: Bearer "
        + KEY.encode()
        + b"\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


def test_keep_alive_serves_several_requests_on_one_connection(cerebras_emulator):
    with socket.create_connection(("127.0.0.1", cerebras_emulator.port)) as sock:
        for _ in range(3):
            sock.sendall(_request(BODY))
            head, body = _read_response(sock)
            assert head.startswith(b"HTTP/1.1 200 OK") and b"connection: keep-alive" in head
            assert json.loads(body)["choices"][0]["message"]["content"] == "4"


def test_chunked_request_bodies_are_read(cerebras_emulator):
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunked
    )
    with socket.create_connection(("127.0.0.1", cerebras_emulator.port)) as sock:
        sock.sendall(request)
        head, body = _read_response(sock)
    assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["object"] == "chat.completion"


def test_streams_are_chunked_for_http11_and_close_delimited_for_http10(cerebras_emulator):
    stream_body = json.dumps({"model": "llama3.1-8b", "messages": user("hi"), "stream": True}).encode()
    with socket.create_connection(("127.0.0.1", cerebras_emulator.port)) as sock:
        sock.sendall(_request(stream_body, version=b"HTTP/1.0"))
        data = b""
        while piece := sock.recv(65536):
            data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"connection: close" in head and b"transfer-encoding" not in head.lower()
    assert body.startswith(b"data: {") and body.endswith(b"}\n\n")
    with httpx.stream(
        "POST",
        cerebras_emulator.base_url + "/chat/completions",
        content=stream_body,
        headers={"Authorization": f"Bearer {KEY}"},
    ) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        response.read()


def test_gzip_request_bodies_are_accepted(client):
    response = client.post(
        "/chat/completions",
        content=gzip.compress(BODY),
        headers={"content-encoding": "gzip", "content-type": "application/json"},
    )
    assert response.status_code == 200


def test_emulator_server_context_manager_binds_loopback_on_an_ephemeral_port():
    with EmulatorServer(tokens_per_second=None) as server:
        assert server.host == "127.0.0.1" and server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert server.openrouter_base_url == f"http://127.0.0.1:{server.port}/api/v1"
        assert httpx.get(server.base_url + "/tcp_warming").json() == {}
        port = server.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/tcp_warming")


def test_server_from_an_existing_app_shares_its_state():
    app = create_app(send_done=True)
    with EmulatorServer(app) as server:
        server.fail_next(1, "503")
        assert app.pending_faults == 1
        response = httpx.post(
            server.base_url + "/chat/completions",
            headers={"Authorization": "Bearer k"},
            json={"model": "llama3.1-8b", "messages": user("hi")},
        )
        assert response.status_code == 503
        assert server.last_request is not None and server.last_request.json()["model"] == "llama3.1-8b"


async def test_the_app_is_plain_asgi():
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emulator/v1", headers={"Authorization": "Bearer k"}
    ) as http:
        reply = await http.post(
            "/chat/completions", json={"model": "gpt-oss-120b", "messages": user("What is 2+2?"), "stream": True}
        )
    assert reply.status_code == 200 and chunks(reply)[-1]["choices"][0]["finish_reason"] == "stop"


def test_cli_emulator_serves_until_stopped():
    proc = subprocess.Popen(
        [sys.executable, "-m", "cerebras_adapters.cli", "emulator", "--port", "0", "--done"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        base_url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        response = httpx.post(
            base_url + "/chat/completions",
            headers={"Authorization": "Bearer k"},
            json={"model": "llama3.1-8b", "messages": user("hi"), "stream": True},
        )
        assert response.text.endswith("data: [DONE]\n\n")
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_reports_a_missing_scenario_file(capsys, tmp_path):
    assert main(["emulator", "--scenarios", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
