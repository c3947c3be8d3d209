"""Load benchmark: N concurrent gradio_client users × M questions against a running app, mixed
with hostile clients, and whether every answer equals the one asked alone.

Hostile clients send long random-CJK questions through /ask and open connections that send
half a request and hang up (the way a closed chat stream does). Only 127.0.0.1 is a target.

    python eval/load.py --url http://127.0.0.1:7860 --users 20 --questions 10 --hostile 4
    python eval/load.py --start --users 3 --questions 2 --hostile 1      # starts app.py itself
    python eval/load.py --start --think 5    # each user reads an answer 0–10 s before asking again

Prints errors, p50/p95/max latency of the normal questions, throughput and the number of
answers that differ from the solo run; exits 1 when there were errors or differences. The CPU
seconds per question of the app (with --start), of this process's clients and of everything
else on the machine are printed too: the clients share the machine with the app, and on a
shared machine the others' load is part of any latency figure.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"已就绪：(http://\S+?)（")
# gradio_client builds a new TLS context (~60 ms of CPU) for each request and each stream when
# it is not given one, even for http://: 95% of a client's CPU, taken from the app's two cores.
TLS = ssl.create_default_context()


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU of a process so far (its finished threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (the non-idle time of /proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def questions(count: int) -> list[str]:
    """Answerable questions of the gated eval set, in a fixed order."""
    cases = [json.loads(line) for line in (ROOT / "eval" / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
    chosen = [c["question"] for c in cases if not c["expect"].get("should_refuse") and not c.get("turns")]
    return chosen[:count]


def hang_up(url: str, stop: threading.Event, counts: dict) -> None:
    """Connections that send half a request, or read a few bytes of an asset, then close."""
    parsed = urlparse(url)
    while not stop.is_set():
        try:
            with socket.create_connection((parsed.hostname, parsed.port), timeout=5) as conn:
                conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                conn.recv(16)
            counts["hang-ups"] += 1
        except OSError:
            counts["hang-up errors"] += 1
        time.sleep(0.05)


def long_questions(client_factory, stop: threading.Event, counts: dict, seed: int) -> None:
    rng = random.Random(seed)
    client = client_factory()
    while not stop.is_set():
        text = "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(rng.randint(300, 490)))
        try:
            client.predict(text, api_name="/ask")
            counts["long questions"] += 1
        except Exception:  # noqa: BLE001 - a hostile client's failure is counted, not raised
            counts["long-question errors"] += 1


def run(url: str, users: int, per_user: int, hostile: int, think: float = 0.0, server_pid: int | None = None) -> dict:
    """`think`: each user waits a random 0–2×think seconds after an answer before the next question."""
    from gradio_client import Client

    factory = lambda: Client(url, verbose=False, ssl_verify=TLS)  # noqa: E731
    asked = questions(users * per_user)
    solo_client = factory()
    solo = {q: solo_client.predict(q, api_name="/ask") for q in dict.fromkeys(asked)}
    stop, counts = threading.Event(), {"hang-ups": 0, "hang-up errors": 0, "long questions": 0, "long-question errors": 0}
    noise = [threading.Thread(target=hang_up, args=(url, stop, counts), daemon=True) for _ in range(max(0, hostile // 2))]
    noise += [threading.Thread(target=long_questions, args=(factory, stop, counts, n), daemon=True)
              for n in range(hostile - hostile // 2)]
    for thread in noise:
        thread.start()
    latencies: list[float] = []
    errors: list[str] = []
    differ: list[str] = []
    lock = threading.Lock()

    def user(number: int) -> None:
        client, reader = factory(), random.Random(number)
        for turn, q in enumerate(asked[number * per_user:(number + 1) * per_user]):
            if think and turn:
                time.sleep(reader.uniform(0, 2 * think))
            started = time.perf_counter()
            try:
                answer = client.predict(q, api_name="/ask")
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                with lock:
                    errors.append(f"{q[:30]}: {type(exc).__name__}: {exc}"[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                if re.sub(r"用时 \d+ ms", "", answer) != re.sub(r"用时 \d+ ms", "", solo[q]):
                    differ.append(q)

    load_before = os.getloadavg()[0]
    cpu_before = (cpu_seconds(server_pid) if server_pid else 0.0, cpu_seconds(), machine_busy_seconds())
    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    server, clients, machine = (after - before for after, before in zip(
        (cpu_seconds(server_pid) if server_pid else 0.0, cpu_seconds(), machine_busy_seconds()), cpu_before))
    stop.set()
    ordered = sorted(latencies)
    per_question = lambda seconds: round(seconds / len(latencies), 3) if latencies else None  # noqa: E731
    return {"users": users, "questions per user": per_user, "hostile clients": hostile, "think s": think,
            "answered": len(latencies),
            "errors": errors, "differ from solo": differ, "wall s": round(wall, 1),
            "throughput q/s": round(len(latencies) / wall, 2) if wall else None,
            "p50 s": round(statistics.median(ordered), 3) if ordered else None,
            "p95 s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3) if ordered else None,
            "max s": round(ordered[-1], 3) if ordered else None, **counts,
            # Per normal question answered; the app's figure includes the hostile clients' work.
            "app cpu s/q": per_question(server) if server_pid else None, "clients cpu s/q": per_question(clients),
            "others cpu s/q": per_question(machine - server - clients),
            "others' cores busy": round((machine - server - clients) / wall, 2) if wall else None,
            "load average before/after": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def start_app() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 300
    for line in process.stdout:
        if ready := READY.search(line):
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # keep draining
            return process, ready[1]
        if time.monotonic() > deadline:
            break
    process.kill()
    raise SystemExit("app.py did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running app (127.0.0.1 only)")
    parser.add_argument("--start", action="store_true", help="start app.py on a free port for the run")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--hostile", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.0, metavar="SECONDS",
                        help="each user waits a random 0..2×SECONDS between questions (0: back to back)")
    args = parser.parse_args(argv)
    process = None
    if args.start:
        process, url = start_app()
    elif args.url and urlparse(args.url).hostname in ("127.0.0.1", "localhost"):
        url = args.url
    else:
        parser.error("give --start or a --url on 127.0.0.1")
    try:
        result = run(url, args.users, args.questions, args.hostile, args.think, process.pid if process else None)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 1 if result["errors"] or result["differ from solo"] else 0


if __name__ == "__main__":
    sys.exit(main())
