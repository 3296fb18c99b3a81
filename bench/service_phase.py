"""The service phase of the benchmark (`make bench-service`): 32 clients racing enrolments
and payments through `jamsos serve` on PostgreSQL, beside the same enrolments through the CLI.

Every worker is enrolled by two clients at once (each with its own Idempotency-Key) and every
request is sent twice with its key (a retry): one enrolment a worker must win, nothing may
be applied twice, and no answer may be a 5xx. Then every client pays January under its own
SP2D: one payment wins. The invariants are read back from the ledger (the CLI's JSON):
places held = workers enrolled once, committed and paid as the premiums say, available =
pagu - committed - paid. The same enrolments then go through `jamsos enroll`, one process a
worker, 32 at a time, on a ledger of their own: throughput and p50/p99 latency of both.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from jamsos_ledger.domain.principals import public_key_text
from jamsos_ledger.stores.keys import new_key_file
from registration_file import generate_registrations

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
PREMIUM = 16_800  # a worker's monthly premium (JKK + JKM), as the program opens with


def _jamsos(url: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([JAMSOS, "--store", url, *args], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"jamsos {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _ledger(server: str, folder: Path, workers: int, env: dict[str, str]) -> tuple[str, str]:
    """A fresh schema with the program open and `workers` eligible workers ranked."""
    schema = f"bench_service_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    url = f"{server}?schema={schema}"
    _jamsos(url, env, "program", "open", "--one-key", "--year", "2026", "--allocation",
            "2000000000", "--quota", "10000")
    path = folder / f"{schema}.csv"
    generate_registrations(path, workers, bad_rate=0, duplicate_rate=0)
    _jamsos(url, env, "workers", "import", str(path))
    _jamsos(url, env, "workers", "prioritize")
    return url, schema


def _eligible(url: str, env: dict[str, str], path: Path) -> list[str]:
    """The NIKs of the file's workers that `workers prioritize` ranked (deciles 1-5)."""
    import csv

    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["nik"] for r in rows if int(r["decile"]) <= 5]


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_phase(url: str, niks: list[str], clients: int, env: dict[str, str],
                  folder: Path) -> dict[str, Any]:
    service_key = new_key_file(folder / "service.key")
    _jamsos(url, env, "principals", "enrol", "bench-service", "--office", "Diskominfo",
            "--role", "service", "--public-key", public_key_text(service_key.public_key))
    client_key = new_key_file(folder / "disnaker.key")
    _jamsos(url, env, "principals", "enrol", "disnaker", "--office", "Disnaker", "--role",
            "operator", "--role", "finance", "--public-key",
            public_key_text(client_key.public_key))
    token = _jamsos(url, env, "tokens", "issue", "--principal", "disnaker").strip().splitlines()[-1]
    port = _free_port()
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen([JAMSOS, "--store", url, "--key", str(service_key.path), "serve",
                                "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        won: list[str] = []
        replays_differ = 0

        def send(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
            key = {"Idempotency-Key": str(uuid.uuid4())}
            started = time.perf_counter()
            first = client.post(path, json=body, headers=key)
            latencies.append(time.perf_counter() - started)
            started = time.perf_counter()
            again = client.post(path, json=body, headers=key)  # the retry: the first answer
            latencies.append(time.perf_counter() - started)
            nonlocal replays_differ
            for r in (first, again):
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if again.status_code != first.status_code or (
                    first.status_code == 200 and again.json() != first.json()):
                replays_differ += 1
            return first

        def client_work(index: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                mine = [n for i, n in enumerate(niks) if i % clients in (index,
                                                                         (index + 1) % clients)]
                for nik in mine:
                    r = send(client, "/api/v1/enrolments", {"start": "2026-01", "niks": [nik]})
                    if r.status_code == 200:
                        won.append(nik)
                send(client, "/api/v1/payments", {"month": "2026-01", "sp2d": f"SP2D/{index}"})

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client_work, range(clients)))
        elapsed = time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        log.close()
    budget = json.loads(_jamsos(url, env, "report", "budget", "--format", "json"))
    quota = json.loads(_jamsos(url, env, "report", "quota", "--format", "json"))
    january = next(m for m in budget["months"] if m["month"] == "2026-01")
    invariants = {
        "no 5xx": not any(s >= 500 for s in statuses),
        "a retry gets the first answer": replays_differ == 0,
        "each worker enrolled once": len(won) == len(set(won)) == quota["enrolled"] == len(niks),
        # Payments race the enrolments: a later SP2D pays those enrolled since the last one,
        # never one participant twice.
        "January paid for every participant once": january["paid"] == quota["enrolled"] * PREMIUM,
        "committed for the year": budget["committed"] + budget["paid"]
        == quota["enrolled"] * PREMIUM * 12,
        "available = pagu - committed - paid": budget["available"]
        == budget["allocation"] - budget["committed"] - budget["paid"],
    }
    return {"requests": len(latencies), "seconds": round(elapsed, 2),
            "january_sp2d": len(january["sp2d"]),
            "requests_per_second": round(len(latencies) / elapsed, 1), **_percentiles(latencies),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "invariants": invariants}


def cli_phase(url: str, niks: list[str], clients: int, env: dict[str, str]) -> dict[str, Any]:
    """The same enrolments through `jamsos enroll`, one process a worker, `clients` at once."""
    latencies: list[float] = []
    refusals: list[str] = []

    def enrol(nik: str) -> None:
        started = time.perf_counter()
        done = subprocess.run([JAMSOS, "--store", url, "enroll", "--nik", nik, "--start",
                               "2026-01"], env=env, capture_output=True, text=True, check=False)
        latencies.append(time.perf_counter() - started)
        if done.returncode != 0:
            refusals.append(f"exit {done.returncode}: {done.stderr.strip()[:200]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(enrol, niks))
    elapsed = time.perf_counter() - started
    quota = json.loads(_jamsos(url, env, "report", "quota", "--format", "json"))
    return {"commands": len(latencies), "seconds": round(elapsed, 2),
            "commands_per_second": round(len(latencies) / elapsed, 1),
            **_percentiles(latencies), "refused": len(refusals),
            "first_refusals": sorted(set(refusals))[:3],
            # A command refused (the store busy past its lock timeout) enrolled nobody; every
            # command that succeeded enrolled its worker, once.
            "invariants": {"each worker enrolled once":
                           quota["enrolled"] == len(niks) - len(refusals)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="Concurrent clients.")
    parser.add_argument("--workers", type=int, default=400,
                        help="Workers registered (those of deciles 1-5 are enrolled).")
    parser.add_argument("--postgres", default=os.environ.get(
        "JAMSOS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
        help="The PostgreSQL server.")
    parser.add_argument("--out", type=Path, default=Path("bench/results/service.json"),
                        help="Where the results are written (JSON).")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="jamsos-bench-service-"))
    env = {**os.environ, "JAMSOS_KEY": str(new_key_file(folder / "admin.key").path)}
    env.pop("JAMSOS_KEY_PASSPHRASE", None)
    schemas: list[str] = []
    try:
        results: dict[str, Any] = {"clients": args.clients}
        for phase, run in (("service", service_phase), ("cli", cli_phase)):
            url, schema = _ledger(args.postgres, folder, args.workers, env)
            schemas.append(schema)
            niks = _eligible(url, env, folder / f"{schema}.csv")
            work: Callable[..., dict[str, Any]] = run
            extra = (folder,) if phase == "service" else ()
            results[phase] = work(url, niks, args.clients, env, *extra)
            results[phase]["workers"] = len(niks)
        print(json.dumps(results, indent=2))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        broken = [f"{phase}: {name}" for phase in ("service", "cli")
                  for name, held in results[phase]["invariants"].items() if not held]
        if broken:
            print("INVARIANTS BROKEN: " + "; ".join(broken), file=sys.stderr)
            return 1
        return 0
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


if __name__ == "__main__":
    sys.exit(main())
