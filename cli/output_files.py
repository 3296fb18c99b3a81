"""The files a command writes beside its standard output (a chart, a rejects file): checked
before the store is touched, written whole or not at all.

A path on the command line is a promise about one file only. So, before any command reads or
writes the ledger, every output path is refused (exit 2, nothing written) when it is the
ledger's SQLite file or one of its companions (`-wal`, `-shm`, `-journal`), one of the
command's input files, another output of the same command, a folder or a device, or (without
`--overwrite`) a file that exists already; its folder must exist and take a new file, proved by
creating the temporary file the output is written into. The output is written to that
temporary file and renamed into place only once it is complete, so a failure (a full disk, an
interrupt) leaves the old file, or none, never half a chart.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from jamsos_ledger.cli.context import LedgerContext
from jamsos_ledger.cli.errors import Malformed, OutputFileFailed
from jamsos_ledger.stores.urls import StoreURL

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# The files SQLite keeps beside a database while it is open (write-ahead log, shared memory,
# rollback journal): writing over any of them damages the ledger as surely as over the file.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")
_CLAIMED = "jamsos.output_files"  # in click's context meta: this command's outputs so far


@dataclass
class OutputFile:
    """A file a command will write, checked and reserved.

    Attributes:
        path: the path as the user wrote it (for messages).
        option: the option that named it (`--chart`), for messages.
        target: where it goes, every symbolic link resolved.
        overwrite: whether an existing file may be replaced (`--overwrite`).
        temporary: the file it is written into first, in the same folder.
        private: written with mode 0600 (owner only), whatever the umask or the replaced
            file's mode: a file of personal data, like a key file.
    """

    path: Path
    option: str
    target: Path
    overwrite: bool
    temporary: Path | None = field(default=None, repr=False)
    private: bool = False

    def __str__(self) -> str:
        return str(self.path)

    def write(self, fill: Callable[[Path], T]) -> T:
        """Write the file: `fill` writes the temporary file (given its path), which is then
        made durable and renamed into place. OutputFileFailed (nothing left behind) when any
        of it fails."""
        if self.temporary is None:
            raise OutputFileFailed(self.option, self.path, "it was written once already")
        temporary = self.temporary
        try:
            result = fill(temporary)
            _make_durable(temporary, self.target, private=self.private)
            self._move_into_place(temporary)
        except OSError as e:
            raise OutputFileFailed(self.option, self.path, _reason(e)) from e
        finally:
            self.discard()
        return result

    def discard(self) -> None:
        """Remove the temporary file, if it is still there (the command failed before the
        output was complete, or it is complete and renamed)."""
        if self.temporary is not None:
            with suppress(OSError):  # nothing more can be done about a folder gone meanwhile
                self.temporary.unlink(missing_ok=True)
            self.temporary = None

    def _move_into_place(self, temporary: Path) -> None:
        if self.overwrite:
            os.replace(temporary, self.target)
            return
        try:
            os.link(temporary, self.target)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise OSError(f"{self.path} was created by someone else while the command ran; "
                          "it was left as it was") from None
        except OSError:  # a file system without hard links
            if self.target.exists():
                raise OSError(f"{self.path} was created by someone else while the command "
                              "ran; it was left as it was") from None
            os.replace(temporary, self.target)


def output_file(
    path: Path | None,
    *,
    option: str,
    inputs: Iterable[Path] = (),
    overwrite: bool = False,
    private: bool = False,
) -> OutputFile | None:
    """Check and reserve a file the running command will write, before it touches the store.

    Malformed (exit 2, nothing written) when the path is the ledger, an input, another output
    of this command, not a regular file, or exists (without `overwrite`), or when its folder
    does not exist or takes no new file. The reservation (a temporary file) is removed when the
    command ends, whatever happened.
    """
    if path is None:
        return None
    ctx = click.get_current_context()
    target = _resolved(path)
    claimed: list[OutputFile] = ctx.meta.setdefault(_CLAIMED, [])
    for kind, others in (
        ("one of the ledger's files", _store_files(ctx)),
        ("an input of this command", [_resolved(p) for p in inputs]),
        ("another output of this command", [o.target for o in claimed]),
    ):
        if any(_same_file(target, other) for other in others):
            raise Malformed(
                f"{option} {path} is {kind}: writing it would destroy it; name another file "
                "(nothing was written)"
            )
    _check_replaceable(path, target, option, overwrite)
    out = OutputFile(path=path, option=option, target=target, overwrite=overwrite,
                     private=private)
    out.temporary = _reserve(path, target, option)
    claimed.append(out)
    ctx.call_on_close(out.discard)
    return out


def overwrite_option() -> Callable[[F], F]:
    """`--overwrite`: consent to replace an existing output file (never the ledger or an
    input)."""
    return click.option(
        "--overwrite",
        is_flag=True,
        help="Replace the output file if it exists already (never the ledger or an input: "
        "those are always refused).",
    )


def _resolved(path: Path) -> Path:
    """The path with `~`, `..` and symbolic links resolved, as far as it exists."""
    try:
        return Path(os.path.expanduser(path)).resolve(strict=False)
    except (OSError, RuntimeError):  # a loop of links: compare it as written
        return Path(os.path.abspath(path))


def _store_files(ctx: click.Context) -> list[Path]:
    """The files of the ledger the command runs on (none for PostgreSQL or memory)."""
    obj = ctx.find_object(LedgerContext)
    if obj is None:
        return []
    try:
        store = StoreURL.parse(obj.store)
    except Exception:  # a malformed URL is refused when the store is opened
        return []
    if store.kind != "sqlite" or not store.path:
        return []
    database = _resolved(Path(store.path.split("?", 1)[0]))
    return [database.with_name(database.name + end) for end in SQLITE_COMPANIONS]


def _same_file(a: Path, b: Path) -> bool:
    """The same path, or two names of one file (a hard link, a case-insensitive folder)."""
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: then only the same path is the same file
        return False


def _check_replaceable(path: Path, target: Path, option: str, overwrite: bool) -> None:
    try:
        found = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as e:
        raise Malformed(f"{option} {path}: {_reason(e)} (nothing was written)") from e
    if stat.S_ISDIR(found.st_mode):
        raise Malformed(f"{option} {path} is a folder: name a file in it (nothing was written)")
    if not stat.S_ISREG(found.st_mode):
        raise Malformed(f"{option} {path} is not a regular file (a device, pipe or socket): "
                        "name a file (nothing was written)")
    if not overwrite:
        raise Malformed(f"{option} {path} exists already: name a new file, or give "
                        "--overwrite to replace it (nothing was written)")


def _reserve(path: Path, target: Path, option: str) -> Path:
    """Create the temporary file the output is written into: proof that its folder exists and
    takes a new file, before the store is touched."""
    folder = target.parent
    if not folder.is_dir():
        raise Malformed(f"{option} {path}: the folder {path.parent} does not exist; create it "
                        "first or name a file in an existing folder (nothing was written)")
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    if len(os.fsencode(target.name)) > longest:
        raise Malformed(f"{option} {path}: the file name is longer than the {longest} bytes "
                        "its folder allows (nothing was written)")
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".jamsos-", suffix=".part")
    except OSError as e:
        raise Malformed(f"{option} {path}: cannot write in the folder {path.parent} "
                        f"({_reason(e)}); nothing was written") from e
    os.close(handle)
    return Path(name)


def _make_durable(temporary: Path, target: Path, *, private: bool = False) -> None:
    """Give the complete file the permissions a new file would have (or the replaced one's;
    0600 when `private`: the temporary file is 0600 from its creation, so personal data are
    never readable by others, not even while written), and push it to the disk before it takes
    the target's name."""
    try:
        mode = 0o600 if private else stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temporary, mode)
    with open(temporary, "rb+") as f:
        os.fsync(f.fileno())


def _reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__
