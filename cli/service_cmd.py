"""`jamsos serve` and `jamsos tokens`: the ledger over HTTP, and who may use it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import Column, echo_recorded, render


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; 127.0.0.1 serves this machine only.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port to listen on.")
@click.option("--max-body", type=click.IntRange(1024, 1 << 30), default=20 * 1024 * 1024,
              show_default=True, metavar="BYTES",
              help="The largest request body accepted (an uploaded registration file).")
@click.option("--timeout", type=click.IntRange(1, 3600), default=30, show_default=True,
              metavar="SECONDS",
              help="How long a request's headers may take to arrive, an idle connection is "
              "kept (at most 75 s), and a request waits for the ledger (then 503).")
@click.option("--body-timeout", type=click.IntRange(1, 3600), default=120, show_default=True,
              metavar="SECONDS",
              help="How long a request's body may take to arrive whole (then 408, nothing "
              "written); 120 s carries the default --max-body (20 MiB) at 1.4 Mbit/s.")
@click.option("--max-wait", type=click.FloatRange(0, 60), default=10.0, show_default=True,
              metavar="SECONDS",
              help="The longest a read asking for ?min_position=N waits for the log to get there.")
@pass_ledger
def serve_command(
    obj: LedgerContext, host: str, port: int, max_body: int, timeout: int, body_timeout: int,
    max_wait: float,
) -> None:
    """Serve the ledger over HTTP: the JSON API under /api/v1 and the dashboard under /.

    Every request but /health needs a token from `jamsos tokens issue`. What a request writes
    is sealed with the key of --key (a principal holding the `service` role) on behalf of the
    token's principal. The API's OpenAPI document is at /openapi.json. Stops with Ctrl-C.

    \b
    Bounds, so that no client holds the service for the others:
      a body larger than --max-body is refused (413) as soon as that much came, chunked
        or not; one slower than --body-timeout is refused (408); nothing is written;
      headers must arrive within --timeout seconds of opening the connection (or of
        the last answer on it), or the connection is closed;
      an idle connection is closed after --timeout seconds (at most 75);
      at most 256 connections at once: beyond, requests are answered 503;
      a request waits at most --timeout seconds for the ledger (503, nothing written).
    """
    import uvicorn

    from jamsos_ledger.web.app import create_app
    from jamsos_ledger.web.limits import headers_in_time

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(obj.store, obj.key_source(), max_body=max_body, max_wait=max_wait,
                     body_timeout=float(body_timeout))
    app.state.service.lock_timeout = float(timeout)
    click.echo(f"Serving the ledger at http://{host}:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning",
                http=headers_in_time(float(timeout)),
                timeout_keep_alive=min(timeout, 75), limit_concurrency=256,
                h11_max_incomplete_event_size=64 * 1024, server_header=False)


@click.group("tokens")
def tokens() -> None:
    """Bearer tokens of the service: issue, list, revoke (kept as hashes in the store).

    Issuing and revoking are sealed events of the ledger, an administrator's; the service
    honours a token only when the seal over its issuance holds."""


@tokens.command("issue")
@click.option("--principal", required=True, metavar="NAME",
              help="The enrolled principal (`jamsos principals`) the token speaks for: the "
              "actor of everything written with it.")
@click.option("--expires", default="30d", show_default=True, metavar="DURATION",
              help="How long it is valid: e.g. 30d, 12h, 90m (at most 366d).")
@pass_ledger
def issue_command(obj: LedgerContext, principal: str, expires: str) -> None:
    """Issue a token (administrators only); it is shown once, here, and the store keeps only
    its hash."""
    from jamsos_ledger.web import tokens as store

    lifetime = store.duration(expires)
    token, info = store.issue(obj.ledger, principal, lifetime)
    echo_recorded(f"Issued token {info.token_id} for {info.principal}, valid until "
                  f"{info.expires_at.isoformat(timespec='seconds')}; it is shown once:")
    click.echo(token)


@tokens.command("list")
@format_option("table", "json")
@pass_ledger
def list_command(obj: LedgerContext, fmt: str) -> None:
    """List the tokens issued (their ids, never the tokens).

    States: active, expired, revoked, `principal revoked` (the token is live but its
    principal was revoked: the service refuses it), or `not sealed`: a token the service
    refuses, issued before tokens were sealed (issue a new one) or written into the store by
    someone who holds no administrator's key."""
    from jamsos_ledger.web import tokens as store

    now = datetime.now(UTC)
    rows = [{"id": t.token_id, "principal": t.principal, "state": t.state(now),
             "issued_at": t.issued_at.isoformat(timespec="seconds"),
             "expires_at": t.expires_at.isoformat(timespec="seconds"),
             "issued_by": t.issued_by} for t in store.listed(obj.ledger)]
    render(fmt, [Column("id", "Id"), Column("principal", "Principal"), Column("state", "State"),
                 Column("expires_at", "Expires (UTC)"), Column("issued_by", "Issued by")],
           rows, title="Service tokens")


@tokens.command("revoke")
@click.argument("token_id", metavar="ID")
@pass_ledger
def revoke_command(obj: LedgerContext, token_id: str) -> None:
    """Revoke a token by its id (from `tokens list`; administrators only): refused from the
    next request on."""
    from jamsos_ledger.web import tokens as store

    info = store.revoke(obj.ledger, token_id)
    echo_recorded(f"Revoked token {info.token_id} of {info.principal}")
