"""What a client may not do to a real `jamsos serve` process: send a body larger than
`--max-body` without announcing its length (chunked), send its body or its headers a trickle
at a time. Each is refused early (413, 408, or the connection closed), nothing is written,
and the service goes on answering others.

The requests are written on a socket by hand: an HTTP client library would announce the
length, or refuse to send a half request.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from cli_helpers import events, ok
from served import Served, served
from small_ledger import twenty_workers

pytestmark = pytest.mark.slow
LIMIT = 64 * 1024
SLOW = 3  # --timeout and --body-timeout of the service under test, seconds


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("bounds")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder}/ledger.db"
    else:
        server: str = request.getfixturevalue("postgres_server")
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        url = f"{server}?schema={schema}"
    try:
        twenty_workers(url, folder)
        with served(url, folder, "--max-body", str(LIMIT), "--timeout", str(SLOW),
                    "--body-timeout", str(SLOW), "--max-wait", "30") as s:
            yield s
    finally:
        if schema is not None:
            with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


def _connect(s: Served) -> socket.socket:
    port = int(s.base.rsplit(":", 1)[1])
    conn = socket.create_connection(("127.0.0.1", port), timeout=SLOW * 4)
    return conn


def _head(s: Served, path: str, content_type: str, framing: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {s.token}\r\n"
            f"Content-Type: {content_type}\r\n{framing}\r\n\r\n").encode()


def _chunked(data: bytes, size: int = 8192) -> bytes:
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)


def _answer(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the one answer on `conn` (read to its length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        got = conn.recv(65536)
        assert got, f"the connection closed without an answer: {data!r}"
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        got = conn.recv(65536)
        assert got
        body += got
    return int(lines[0].split()[1]), headers, body


def _problem(status: int, headers: dict[str, str], body: bytes, wanted: int) -> dict[str, Any]:
    assert status == wanted, body
    assert headers["content-type"].startswith("application/problem+json")
    said: dict[str, Any] = json.loads(body)
    assert said["status"] == wanted and "Traceback" not in said["detail"]
    return said


def _multipart(name: str, content: bytes) -> tuple[str, bytes]:
    boundary = "jamsos" + uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    body += content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def _csv(rows: int) -> bytes:
    header = b"nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source\n"
    return header + b"".join(
        b"32750141019%05d,Siti Aminah,1990-01-01,P,Bekasi Timur,Aren Jaya,pedagang,2,Disnaker\n"
        % i for i in range(1, rows + 1))


@pytest.mark.parametrize("what", ["json", "upload"])
def test_a_chunked_body_past_the_limit_is_refused_413_before_it_ends(
    service: Served, what: str
) -> None:
    """The body is sent twice the limit long and never finished (no last chunk): the answer
    comes all the same, so the service stopped reading at the limit."""
    s = service
    before = events(s.url)
    if what == "json":
        path, kind = "/api/v1/payments", "application/json"
        content = json.dumps({"month": "2026-02", "sp2d": "SP2D/x" + "x" * 2 * LIMIT}).encode()
    else:
        path = "/api/v1/registrations/file"
        kind, content = _multipart("big.csv", _csv(2 * LIMIT // 80))
    assert len(content) > 2 * LIMIT
    with _connect(s) as conn:
        conn.sendall(_head(s, path, kind, "Transfer-Encoding: chunked"))
        conn.sendall(_chunked(content[: 2 * LIMIT]))
        started = time.monotonic()
        said = _problem(*_answer(conn), 413)
        assert time.monotonic() - started < SLOW, "answered by the body timeout, not the limit"
    assert "65.536 bytes" in said["detail"] and "--max-body" in said["detail"]
    assert events(s.url) == before
    assert f"POST {path} 413" in s.log.read_text()


def test_a_chunked_body_within_the_limit_is_read_whole(service: Served) -> None:
    s = service
    kind, content = _multipart("small.csv", _csv(3))
    with _connect(s) as conn:
        conn.sendall(_head(s, "/api/v1/registrations/file", kind, "Transfer-Encoding: chunked"))
        conn.sendall(_chunked(content, 100) + b"0\r\n\r\n")
        status, _, body = _answer(conn)
    assert status == 200, body
    said = json.loads(body)
    assert said["registered"] + said["already"] == 3


def test_a_body_that_trickles_is_refused_408_and_holds_nothing(service: Served) -> None:
    s = service
    before = events(s.url)
    with _connect(s) as conn:
        conn.sendall(_head(s, "/api/v1/payments", "application/json", "Content-Length: 200"))
        started = time.monotonic()
        for _ in range(SLOW * 2):  # a byte a second: each part in time, the whole not
            try:
                conn.sendall(b" ")
            except OSError:
                break
            time.sleep(1)
        said = _problem(*_answer(conn), 408)
        assert time.monotonic() - started < SLOW + 3
    assert "--body-timeout" in said["detail"]
    assert events(s.url) == before
    with s.client() as c:  # and the service answers others
        assert c.get("/api/v1/whoami").status_code == 200


def test_a_request_slower_than_the_body_timeout_is_answered_whole(service: Served) -> None:
    """The body's timeout is the body's: a read waiting longer for the log to reach a
    position (`min_position`) is answered whole once another process appends."""
    s = service
    with s.client() as c:
        head = c.get("/api/v1/audit/status").json()["position"]
        answers: list[Any] = []
        waiting = threading.Thread(target=lambda: answers.append(
            c.get(f"/api/v1/reports/budget?min_position={head + 1}")))
        waiting.start()
        time.sleep(SLOW + 1)
        ok(s.url, "premiums", "pay", "--month", "2026-03", "--sp2d", "SP2D/03/BOUNDS")
        waiting.join(60)
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert answer.json()["position"] > head


def test_headers_that_trickle_lose_their_connection(service: Served) -> None:
    s = service
    with _connect(s) as conn:
        conn.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < SLOW * 3:
            try:
                conn.sendall(b"X-Slow: 1\r\n")
                conn.settimeout(1)
                if conn.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
        assert closed, "the service kept a connection whose headers never ended"
        assert time.monotonic() - started < SLOW + 2


def test_a_kept_connection_must_send_its_next_headers_in_time(service: Served) -> None:
    """The keep-alive timer of uvicorn stops at the next request's first byte; the headers'
    own timer does not."""
    s = service
    with _connect(s) as conn:
        conn.sendall(f"GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Authorization: Bearer {s.token}\r\n\r\n".encode())
        assert _answer(conn)[0] == 200
        conn.sendall(b"GET /api/v1/whoami HTTP/1.1\r\n")
        conn.settimeout(SLOW + 3)
        started = time.monotonic()
        with contextlib.suppress(ConnectionResetError):
            assert conn.recv(1024) == b""
        assert time.monotonic() - started < SLOW + 2


def test_cors_is_closed(service: Served) -> None:
    """No page of another origin may call the API: a preflight is not granted and no answer
    carries an Access-Control-Allow-* header."""
    with service.client() as c:
        evil = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type"}
        preflight = c.options("/api/v1/payments", headers=evil)
        assert preflight.status_code in (404, 405), preflight.text
        read = c.get("/api/v1/reports/budget", headers={"Origin": "https://evil.example"})
        assert read.status_code == 200
        refused = c.post("/api/v1/payments", json={"month": "x"},
                         headers={"Origin": "https://evil.example"})
        for answer in (preflight, read, refused):
            assert not [h for h in answer.headers if h.lower().startswith("access-control-")]


def test_the_log_holds_no_personal_data_of_any_request(service: Served) -> None:
    """A NIK and a name sent every way a request can carry them (path, query, header, a body
    refused as invalid, malformed or too large, an unknown route) reach no line of the log."""
    s = service
    nik, name = "3275014101900777", "Rahmawati Kusumaningrum"
    with s.client() as c:
        c.get(f"/api/v1/workers/{nik}")
        c.get(f"/api/v1/reports/budget?program={nik}&name={name}")
        c.get("/api/v1/reports/quota", headers={"X-Nik": nik})
        c.post("/api/v1/enrolments", json={"start": "2026-05", "niks": [nik], "name": name})
        c.post("/api/v1/endings", json={"nik": nik, "month": "2026-13", "reason": name})
        c.post("/api/v1/payments", content=f'{{"nik": "{nik}", "name": "{name}"'.encode(),
                headers={"content-type": "application/json"})
        c.post("/api/v1/registrations", json={"rows": [{"nik": nik, "name": name}]})
        c.post(f"/{nik}", content=(nik + name).encode() * (LIMIT // 30))
    with _connect(s) as conn:  # and a chunked body past the limit
        conn.sendall(_head(s, "/api/v1/payments", "application/json",
                           "Transfer-Encoding: chunked"))
        conn.sendall(_chunked((nik + name).encode() * (2 * LIMIT // 30)))
        _answer(conn)
    time.sleep(0.2)
    text = s.log.read_text(encoding="utf-8", errors="replace")
    assert "GET /api/v1/reports/quota 200" in text  # the log is written
    for secret in (nik, nik[-6:], name, "Rahmawati", "Siti Aminah", "3275014101"):
        assert secret not in text, secret
    assert "Traceback" not in text and s.token not in text
