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
              help="How long an idle connection is kept, and a request waits for the ledger.")
@click.option("--max-wait", type=click.FloatRange(0, 60), default=10.0, show_default=True,
              metavar="SECONDS",
              help="The longest a read asking for ?min_position=N waits for the log to get there.")
@pass_ledger
def serve_command(
    obj: LedgerContext, host: str, port: int, max_body: int, timeout: int, max_wait: float
) -> None:
    """Serve the ledger over HTTP: the JSON API under /api/v1 and the dashboard under /.

    Every request but /health needs a token from `jamsos tokens issue`. What a request writes
    is sealed with the key of --key (a principal holding the `service` role) on behalf of the
    token's principal. The API's OpenAPI document is at /openapi.json. Stops with Ctrl-C.
    """
    import uvicorn

    from jamsos_ledger.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(obj.store, obj.key_source(), max_body=max_body, max_wait=max_wait)
    app.state.service.lock_timeout = float(timeout)
    click.echo(f"Serving the ledger at http://{host}:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning",
                timeout_keep_alive=min(timeout, 75), limit_concurrency=256,
                h11_max_incomplete_event_size=64 * 1024, server_header=False)


@click.group("tokens")
def tokens() -> None:
    """Bearer tokens of the service: issue, list, revoke (kept as hashes in the store)."""


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
    """List the tokens issued (their ids, never the tokens)."""
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
