"""Warm start: local jobs skip the seconds of `import torch` by forking from a process that has already paid them.

Every Snakemake `script:` job is a fresh Python process, and importing torch (the registry's CUDA build), pandas and
pyarrow costs each of them about 2 s on the 2-core machine: a seventh of the default run's job time, and most of the
time of the many jobs that compute little. On a local run (the Snakefile's `onstart`) one server process imports
those third-party modules once and then forks a child per job; the job's own process (the client) hands its script
over and waits. The child is the job: it takes the client's working directory, environment, command line and
standard streams, runs the very script file the client was started with (Snakemake's preamble included, so the
`snakemake` object is rebuilt the same way) and reports its exit status and resource usage back.

What keeps results identical to a cold process: the server imports no vidstill module (the child imports the library
from disk at job time, like a cold job) and never runs a torch operation (so no thread pool exists before the fork; the
child sizes torch's pool from the job's OMP_NUM_THREADS as a fresh process does), and nothing touches CUDA before the
fork. A client that cannot reach a server, or finds one of another interpreter, runs its job itself (cold), so
cluster jobs and `--sdm conda` jobs are unaffected. Snakemake's `benchmark:` sees only the client process, so the
client writes the child's CPU time and peak memory beside the job's log (`<log>.usage.json`) for the cost table.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import Any

SOCKET_ENV = "VIDSTILL_WARM_SOCKET"
PRELOAD = (
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "yaml",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "safetensors",
    "safetensors.torch",
    "torchvision",
)
_IN_CHILD = False  # set in a forked child: the script it runs calls hand_over again, which must then return


def usage_path(log: str | Path) -> Path:
    return Path(f"{log}.usage.json")


# --- framing: one JSON message per length-prefixed frame -----------------------------------------------------------


def _send(conn: socket.socket, obj: Any, fds: list[int] | None = None) -> None:
    data = json.dumps(obj).encode()
    frame = struct.pack("!I", len(data)) + data
    if fds:
        socket.send_fds(conn, [frame], fds)
    else:
        conn.sendall(frame)


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def _recv(conn: socket.socket, with_fds: int = 0) -> tuple[Any, list[int]]:
    fds: list[int] = []
    if with_fds:
        head, fds, _, _ = socket.recv_fds(conn, 4, with_fds)
        if not head:
            raise EOFError("connection closed")
        head += _recv_exact(conn, 4 - len(head))
    else:
        head = _recv_exact(conn, 4)
    return json.loads(_recv_exact(conn, struct.unpack("!I", head)[0])), fds


# --- the client: a job's own process -------------------------------------------------------------------------------


def hand_over(smk: Any) -> None:
    """Run this job in the warm server's forked child and exit with its status; return (run cold) when no server
    serves this run. Called first thing by every workflow script, before its heavy imports."""
    log = Path(smk.log[0]) if len(smk.log) else None
    main = sys.modules["__main__"]
    if _IN_CHILD or getattr(main, "__name__", "") != "__main__":
        return  # the job itself (in the child), or a multiprocessing child re-running the script: never hand over
    if log is not None:
        usage_path(log).unlink(missing_ok=True)  # a cold run leaves no usage of an earlier warm one behind
    address = os.environ.get(SOCKET_ENV)
    if not address:
        return
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(address)
        # Snakemake runs a copy with its preamble (which builds `snakemake`) and points __file__ at the rule's script
        script = getattr(main, "__real_file__", main.__file__)
        request = {
            "script": os.path.abspath(script),
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "argv": sys.argv,
            "executable": sys.executable,
            "path": sys.path,
        }
        sys.stdout.flush(), sys.stderr.flush()
        _send(conn, request, [0, 1, 2])
        reply, _ = _recv(conn)
    except (OSError, EOFError):
        conn.close()
        return  # no server (it ended, or never started): run cold
    if "pid" not in reply:
        conn.close()
        return  # refused (another interpreter): run cold
    child = int(reply["pid"])

    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    try:
        result, _ = _recv(conn)
    except EOFError:
        sys.stderr.write(f"vidstill warm start: job process {child} ended without a status (killed?)\n")
        os._exit(1)
    if log is not None and result.get("usage"):
        with contextlib.suppress(OSError):
            usage_path(log).write_text(json.dumps(result["usage"]) + "\n")
    os._exit(int(result["exit"]))


# --- the server ----------------------------------------------------------------------------------------------------


def _run_child(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the job, run its script, report, exit. Never returns."""
    global _IN_CHILD
    _IN_CHILD = True
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.pop(SOCKET_ENV, None)  # the job's own subprocesses run cold, as they would from a cold job
        sys.argv = list(request["argv"])
        sys.path[:] = list(dict.fromkeys([*request["path"], *sys.path]))
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        threads = os.environ.get("OMP_NUM_THREADS")
        if threads and "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(max(int(threads), 1))
        import runpy
        import threading

        def watch() -> None:  # the client is the job Snakemake tracks: if it goes, the job goes
            with contextlib.suppress(OSError):
                conn.recv(1)
            os._exit(143)

        threading.Thread(target=watch, daemon=True).start()
        try:
            runpy.run_path(request["script"], run_name="__main__")
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if not isinstance(e.code, int) and e.code is not None:
                sys.stderr.write(f"{e.code}\n")
        except BaseException:
            traceback.print_exc()
            code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush(), sys.stderr.flush()
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        usage = {
            "cpu_s": own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime,
            "max_rss_mb": max(own.ru_maxrss, kids.ru_maxrss) / 1024.0,
            "warm": True,
        }
        with contextlib.suppress(Exception):
            _send(conn, {"exit": code, "usage": usage})
        os._exit(code)


def serve(address: str, owner: int, preload: tuple[str, ...] = PRELOAD) -> None:
    """Import `preload`, then fork one child per job request until the owning process (Snakemake) is gone."""
    import importlib

    for name in preload:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(64)
    server.settimeout(1.0)
    Path(address + ".ready").write_text(str(os.getpid()))
    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            break
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        try:
            request, fds = _recv(conn, with_fds=3)
        except (OSError, EOFError, ValueError):
            conn.close()
            continue
        if request.get("executable") != sys.executable or len(fds) != 3:
            _send(conn, {"refused": f"server runs {sys.executable}"})
            for fd in fds:
                os.close(fd)
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            server.close()
            _send(conn, {"pid": os.getpid()})
            _run_child(conn, request, fds)
        for fd in fds:
            os.close(fd)
        conn.close()
    server.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address)


def start_server(address: str | Path, timeout: float = 120.0) -> int | None:
    """Start a server for this (Snakemake) process in the background and wait until it listens; None if it could not
    start (the run then goes on cold). Its output goes to `<address>.log`."""
    import subprocess

    address = str(address)
    Path(address).parent.mkdir(parents=True, exist_ok=True)
    Path(address + ".ready").unlink(missing_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with open(address + ".log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vidstill.warm", address, str(os.getpid())],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(address + ".ready").exists():
            return proc.pid
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    proc.kill()
    return None


def stop_server(pid: int | None, address: str | Path) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for path in (str(address), f"{address}.ready"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
