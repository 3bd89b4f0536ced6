"""A small closed-loop HTTP load generator: a few processes, each with a few threads, each sending
prebuilt requests one after another over a fresh connection (gunicorn's sync workers close every
connection after one answer anyway). The same generator drives the hub and the bare endpoint, so the
ratio between them is fair; its own cost per request is the same on both sides.
"""
from __future__ import annotations

import multiprocessing
import socket
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


def http_request(method: str, path: str, body: bytes = b"", headers: dict | None = None,
                 host: str = "127.0.0.1") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close", "Accept-Language: en"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Result:
    seconds: float
    statuses: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0  # connection errors: no answer at all

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return self.failures + sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


def _one(port: int, request: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head = b"".join(chunks[:1])[:16]
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0


def _worker(port: int, requests: list[bytes], threads: int, seconds: float, start_at: float, queue) -> None:
    statuses: Counter = Counter()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def loop(offset: int):
        nonlocal failures
        local_statuses, local_latencies, local_failures, index = Counter(), [], 0, offset
        while time.time() < start_at:
            time.sleep(0.001)
        deadline = start_at + seconds
        while time.time() < deadline:
            request = requests[index % len(requests)]
            index += threads
            began = time.perf_counter()
            try:
                status = _one(port, request)
            except OSError:
                local_failures += 1
                continue
            local_latencies.append((time.perf_counter() - began) * 1000)
            local_statuses[status] += 1
        with lock:
            statuses.update(local_statuses)
            latencies.extend(local_latencies)
            failures += local_failures

    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    queue.put((dict(statuses), latencies, failures))


def run(port: int, requests: list[bytes], seconds: float = 10.0, processes: int = 2, threads: int = 4) -> Result:
    """`processes` x `threads` connections in a closed loop for `seconds`; every request counted."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 1.0  # every process starts at once, after spawning
    workers = [context.Process(target=_worker, args=(port, requests[i::processes] or requests, threads, seconds,
                                                     start_at, queue)) for i in range(processes)]
    for worker in workers:
        worker.start()
    result = Result(seconds=seconds)
    for _ in workers:
        statuses, latencies, failures = queue.get()
        result.statuses.update(statuses)
        result.latencies_ms.extend(latencies)
        result.failures += failures
    for worker in workers:
        worker.join()
    return result
