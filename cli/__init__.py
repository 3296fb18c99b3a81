"""The `jamsos` command line."""

import click


@click.group()
def main() -> None:
    """jamsos: the ledger of a city-paid BPJS Ketenagakerjaan program."""


if __name__ == "__main__":
    main()
