"""The `jamsos` command line: one root group, a command a function, the docstring its help.

The global options (`--store`, `--actor`, `--key`, `--program`) come before the command and
build one `LedgerContext`; the ledger itself is opened on first use, so `--help` and usage
errors never touch the store. The ledger's errors become the README's exit codes in `errors`.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from jamsos_ledger.cli import interrupts
from jamsos_ledger.cli.audit import audit
from jamsos_ledger.cli.claims import claims
from jamsos_ledger.cli.context import LedgerContext
from jamsos_ledger.cli.corrections import correct_command
from jamsos_ledger.cli.enrolment import end_command, enroll_command
from jamsos_ledger.cli.errors import EXIT_OUTPUT, StdoutFailed, translated_errors
from jamsos_ledger.cli.keys import key
from jamsos_ledger.cli.premiums import premiums
from jamsos_ledger.cli.principals import principals
from jamsos_ledger.cli.program import program
from jamsos_ledger.cli.projections_cmd import projections
from jamsos_ledger.cli.proposals import proposals
from jamsos_ledger.cli.reconcile import reconcile_command
from jamsos_ledger.cli.registers_cmd import deaths_command, deciles_command, template_command
from jamsos_ledger.cli.reports import report
from jamsos_ledger.cli.reversals import annul_command, reverse_command
from jamsos_ledger.cli.service_cmd import serve_command, tokens
from jamsos_ledger.cli.streams import guarded_streams
from jamsos_ledger.cli.workers import workers
from jamsos_ledger.stores.urls import DEFAULT_STORE


class LedgerGroup(click.Group):
    """The root group: every command runs with the ledger's errors turned into exit codes,
    and Ctrl-C into exit 130 with what was kept (`interrupts`)."""

    def invoke(self, ctx: click.Context) -> Any:
        def kept() -> str:
            return ctx.obj.kept() if isinstance(ctx.obj, LedgerContext) else ""

        def said() -> str:
            if not isinstance(ctx.obj, LedgerContext):
                return "nothing was written"
            return interrupts.what_was_kept(ctx.obj.written(), kept())

        try:
            with interrupts.reported(said), translated_errors(kept):
                return super().invoke(ctx)
        finally:
            interrupts.disarm()

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """The whole run, help and usage messages included, with its standard streams guarded:
        an output that cannot be written is exit 5 and a message, never a traceback; Ctrl-C
        is exit 130 with what was kept."""
        with guarded_streams():
            try:
                with interrupts.handled():
                    return super().main(*args, **kwargs)
            except StdoutFailed as e:  # outside a command: --help, --version
                click.echo(f"Error: {e.what()}; nothing was recorded in the ledger", err=True)
                sys.exit(EXIT_OUTPUT)


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="JAMSOS_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    metavar="URL",
    help="Where the ledger lives: sqlite:///FILE, postgresql://user@host:port/db or memory:// "
    "(env JAMSOS_STORE).",
)
@click.option(
    "--actor",
    envvar="JAMSOS_ACTOR",
    metavar="NAME",
    help="A name kept as a note beside what you write (env JAMSOS_ACTOR); who wrote it is the "
    "principal whose key (--key) seals it.",
)
@click.option(
    "--key",
    envvar="JAMSOS_KEY",
    metavar="FILE",
    help="Your private key, which seals what you write (env JAMSOS_KEY) [default: "
    "~/.config/jamsos/key]; its passphrase from JAMSOS_KEY_PASSPHRASE or asked on a terminal.",
)
@click.option(
    "--program",
    "program_code",
    envvar="JAMSOS_PROGRAM",
    metavar="ID",
    help="The program, when the ledger holds more than one (env JAMSOS_PROGRAM).",
)
@click.version_option(package_name="jamsos-ledger")
@click.pass_context
def main(
    ctx: click.Context, store: str, actor: str | None, key: str | None, program_code: str | None
) -> None:
    """jamsos: the ledger of a city-paid BPJS Ketenagakerjaan program."""
    ctx.obj = LedgerContext(store=store, actor=actor, program_code=program_code, key=key)
    ctx.call_on_close(ctx.obj.close)


main.add_command(program)
workers.add_command(correct_command)
workers.add_command(deaths_command)
workers.add_command(deciles_command)
workers.add_command(template_command)
main.add_command(workers)
main.add_command(enroll_command)
main.add_command(end_command)
main.add_command(annul_command)
premiums.add_command(reverse_command)
premiums.add_command(reconcile_command)
main.add_command(premiums)
main.add_command(claims)
main.add_command(report)
main.add_command(projections)
main.add_command(audit)
main.add_command(serve_command)
main.add_command(tokens)
main.add_command(proposals)
main.add_command(key)
main.add_command(principals)

__all__ = ["LedgerContext", "main"]

if __name__ == "__main__":
    main()
