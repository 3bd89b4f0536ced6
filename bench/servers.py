"""gunicorn on 127.0.0.1 for the benchmarks, the load test and the fault test: start, wait until it
answers, find its workers, read their peak memory, stop it (only the processes started here)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

from bench.data import BUILD, ROOT

GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(port: int, path: str = "/healthz", seconds: float = 60.0) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}{path}")


def cpu_seconds_of(pids) -> float:
    """The CPU time (user and system) these processes have used so far; those gone count nothing."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            used += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (FileNotFoundError, ProcessLookupError):
            continue
    return used


def postgresql_cpu_seconds() -> float:
    """The CPU time every PostgreSQL process on this machine has used so far (its backends, WAL writer,
    checkpointer...): what the database server spends, when it runs here, as on these machines. Between
    two readings, a process that ended takes its time with it: read around load on pooled connections."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() in ("postgres", "postmaster"):
                        pids.append(int(entry))
            except OSError:
                continue
    return cpu_seconds_of(pids)


def machine_cpu_ticks() -> tuple[int, int]:
    """(idle, total) CPU ticks of the whole machine so far (/proc/stat): between two readings, the share
    of the CPUs that sat idle (waiting counts as idle: a request blocked on the disk leaves it unused)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return ticks[3] + ticks[4], sum(ticks)  # idle + iowait; user..steal


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log_path: str):
        self.process, self.port, self.log_path = process, port, log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        """The worker processes of this gunicorn master."""
        found = []
        for task in os.listdir(f"/proc/{self.pid}/task"):
            with open(f"/proc/{self.pid}/task/{task}/children") as children:
                found += [int(pid) for pid in children.read().split()]
        return sorted(found)

    def peak_rss_mb(self) -> dict[int, float]:
        """Each worker's peak resident memory so far (the kernel's high-water mark, VmHWM)."""
        peaks = {}
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            peaks[pid] = int(line.split()[1]) / 1024
            except FileNotFoundError:
                continue
        return peaks

    def cpu_seconds(self) -> float:
        """The CPU time (user and system) the workers have used so far."""
        return cpu_seconds_of(self.workers())

    def reset_peaks(self) -> None:
        """Start the workers' high-water marks afresh (Linux: "5" to clear_refs), e.g. after the sign-ins,
        whose argon2id hashing takes 64 MiB for a moment, so that the load itself is measured."""
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as clear:
                    clear.write("5")
            except OSError:
                continue

    def log_tail(self, lines: int = 40) -> str:
        with open(self.log_path, errors="replace") as log:
            return "".join(log.readlines()[-lines:])


@contextmanager
def gunicorn(app: str, env: dict, workers: int = 2, name: str = "server", extra: tuple[str, ...] = ()):
    """gunicorn `app` with `workers` sync workers on a free port of 127.0.0.1; stopped afterwards."""
    port = free_port()
    os.makedirs(BUILD, exist_ok=True)
    log_path = os.path.join(BUILD, f"{name}.log")
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603
            [GUNICORN, "--workers", str(workers), "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
             "--backlog", "2048", "--timeout", "60", "--graceful-timeout", "5", *extra, app],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, port, log_path)
    try:
        wait_until_answering(port)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
