"""The service phase of the benchmark (`make bench`, or alone `make bench-service`): 32
clients racing enrolments and payments through `jamsos serve` on PostgreSQL, beside the same
enrolments through the CLI.

Two programs, each opened explicitly, since what a client does depends on it:
- one key (`program open --one-key`, a small office): the client's principal holds the roles
  that run the commands (approver, finance), and every enrolment and payment is a direct
  write. Every worker is enrolled by two clients at once (each with its own Idempotency-Key)
  and every request is sent twice with its key (a retry): one enrolment a worker must win,
  nothing may be applied twice, and no answer may be a 5xx. Then every client pays January
  under its own SP2D: one payment wins, later ones pay those enrolled since.
- four eyes (`program open --four-eyes`, what a city office runs): the same work, each
  enrolment and payment proposed by one principal (operator, finance) and approved by a
  second (approver, finance), as real offices do; two proposals a worker race, and their
  approvals: one enrolment a worker wins, the other approval is refused by the rules.
The invariants are read back from the ledger (the CLI's JSON): places held = workers enrolled
once, committed and paid as the premiums say, available = pagu - committed - paid. The same
enrolments then go through `jamsos enroll` (one key), one process a worker, 32 at a time, on a
ledger of their own: throughput and p50/p99 latency of each.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from jamsos_ledger.domain.principals import public_key_text
from jamsos_ledger.stores.keys import new_key_file

# The demo's generator, a script of the repository (demo/), not of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))
from registration_file import generate_registrations

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
PREMIUM = 16_800  # a worker's monthly premium (JKK + JKM), as the program opens with


def _jamsos(url: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([JAMSOS, "--store", url, *args], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"jamsos {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _ledger(server: str, folder: Path, workers: int, env: dict[str, str], four_eyes: bool = False
            ) -> tuple[str, str]:
    """A fresh schema with the program open (four eyes on or off, said explicitly: the
    default of `program open` is not this benchmark's to rely on) and `workers` eligible
    workers ranked."""
    schema = f"bench_service_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    url = f"{server}?schema={schema}"
    _jamsos(url, env, "program", "open", "--year", "2026", "--allocation", "2000000000",
            "--quota", "10000", "--four-eyes" if four_eyes else "--one-key")
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


def _principal(url: str, env: dict[str, str], folder: Path, name: str, office: str,
               roles: tuple[str, ...]) -> str:
    """Enrol a principal with `roles` and issue it a token; the token."""
    key = new_key_file(folder / f"{name}.key")
    _jamsos(url, env, "principals", "enrol", name, "--office", office,
            *(a for r in roles for a in ("--role", r)),
            "--public-key", public_key_text(key.public_key))
    return _jamsos(url, env, "tokens", "issue", "--principal", name).strip().splitlines()[-1]


def service_phase(url: str, niks: list[str], clients: int, env: dict[str, str],
                  folder: Path, four_eyes: bool = False) -> dict[str, Any]:
    service_key = new_key_file(folder / "service.key")
    _jamsos(url, env, "principals", "enrol", "bench-service", "--office", "Diskominfo",
            "--role", "service", "--public-key", public_key_text(service_key.public_key))
    if four_eyes:  # one principal proposes, a second approves
        token = _principal(url, env, folder, "disnaker", "Disnaker", ("operator", "finance"))
        second = _principal(url, env, folder, "kepala", "Kepala Dinas", ("approver", "finance"))
    else:  # a small office: the roles that run the commands themselves
        token = _principal(url, env, folder, "disnaker", "Disnaker", ("approver", "finance"))
        second = token
    port = _free_port()
    log = (folder / f"serve-{port}.log").open("wb")
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

        def applied(proposer: httpx.Client, approver: httpx.Client, path: str,
                    body: dict[str, Any]) -> bool:
            """The write, done: directly, or proposed and then approved by the second."""
            r = send(proposer, path, body)
            if r.status_code != 200:
                return False
            if not four_eyes:
                return True
            proposal = r.json()["proposal"]
            return send(approver, f"/api/v1/proposals/{proposal}/approve", {}).status_code == 200

        def client_work(index: int) -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                              timeout=120) as proposer, \
                 httpx.Client(base_url=base, headers={"Authorization": f"Bearer {second}"},
                              timeout=120) as approver:
                mine = [n for i, n in enumerate(niks) if i % clients in (index,
                                                                         (index + 1) % clients)]
                for nik in mine:
                    if applied(proposer, approver, "/api/v1/enrolments",
                               {"start": "2026-01", "niks": [nik]}):
                        won.append(nik)
                applied(proposer, approver, "/api/v1/payments",
                        {"month": "2026-01", "sp2d": f"SP2D/{index}"})

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client_work, range(clients)))
        elapsed = time.perf_counter() - started
        decided: dict[str, int] = {}
        if four_eyes:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                              timeout=120) as reader:
                for p in reader.get("/api/v1/proposals").json()["proposals"]:
                    what = f"{p['kind']} {p['status']}"
                    decided[what] = decided.get(what, 0) + 1
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
    if four_eyes:
        invariants["one approved enrolment proposal a worker"] = (
            decided.get("enrolment approved", 0) == quota["enrolled"])
    return {"four_eyes": four_eyes, "requests": len(latencies), "seconds": round(elapsed, 2),
            "january_sp2d": len(january["sp2d"]),
            "requests_per_second": round(len(latencies) / elapsed, 1), **_percentiles(latencies),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            **({"proposals": decided} if four_eyes else {}),
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


PHASES = ("service", "service_four_eyes", "cli")


def run_phases(postgres: str, folder: Path, workers: int, clients: int,
               env: dict[str, str]) -> dict[str, Any]:
    """Every phase, each on a fresh schema of its own (dropped afterwards); their figures.
    `env` names the administrator's key (JAMSOS_KEY), who opens the programs."""
    schemas: list[str] = []
    try:
        results: dict[str, Any] = {"clients": clients}
        for phase in PHASES:
            four_eyes = phase == "service_four_eyes"
            url, schema = _ledger(postgres, folder, workers, env, four_eyes)
            schemas.append(schema)
            niks = _eligible(url, env, folder / f"{schema}.csv")
            if phase == "cli":
                results[phase] = cli_phase(url, niks, clients, env)
            else:
                place = folder / phase
                place.mkdir(exist_ok=True)
                results[phase] = service_phase(url, niks, clients, env, place, four_eyes)
            results[phase]["workers"] = len(niks)
        return results
    finally:
        with psycopg.connect(postgres, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


def broken(results: dict[str, Any]) -> list[str]:
    """The invariants that did not hold, as `phase: invariant`."""
    return [f"{phase}: {name}" for phase in PHASES if phase in results
            for name, held in results[phase]["invariants"].items() if not held]


def print_results(results: dict[str, Any]) -> None:
    """The phases side by side: throughput, p50 and p99, and the invariants."""
    print(f"\n### service phase on PostgreSQL, {results['clients']} concurrent clients")
    header = (f"{'path':<31} {'workers':>8} {'requests':>9} {'seconds':>8} {'per s':>7} "
              f"{'p50 ms':>8} {'p99 ms':>8}  invariants")
    print(header)
    print("-" * len(header))
    names = {"service": "HTTP, one key", "service_four_eyes": "HTTP, four eyes (2 principals)",
             "cli": "CLI `jamsos enroll`, one key"}
    for phase in PHASES:
        r = results.get(phase)
        if r is None:
            continue
        count = r.get("requests", r.get("commands", 0))
        rate = r.get("requests_per_second", r.get("commands_per_second", 0))
        held = sum(r["invariants"].values())
        print(f"{names[phase]:<31} {r['workers']:>8} {count:>9} {r['seconds']:>8} {rate:>7} "
              f"{r['p50_ms']:>8} {r['p99_ms']:>8}  {held} of {len(r['invariants'])} hold")
    for line in broken(results):
        print(f"BROKEN  {line}")


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
    results = run_phases(args.postgres, folder, args.workers, args.clients, env)
    print(json.dumps(results, indent=2))
    print_results(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if broken(results):
        print("INVARIANTS BROKEN: " + "; ".join(broken(results)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
