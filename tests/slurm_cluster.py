"""A real single-node SLURM for the tests: munge, slurmctld and slurmd from the distribution's packages (Debian:
slurm-wlm, munge), configured under a temporary directory, on loopback ports, without accounting (the executor
plugin then queries job states with squeue, so finished jobs stay listed: MinJobAge). `start` raises Unavailable
with the reason when the machine cannot run one, so the tests skip with that reason instead of failing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "sinfo", "scontrol", "scancel")


class Unavailable(RuntimeError):
    """This machine cannot run a test SLURM (the message says why)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 * 8 // 10  # what the node offers jobs: 80 % of the machine
    return 4000


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]

    def run(self, *cmd: str) -> str:
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=True).stdout

    def stop(self) -> None:
        subprocess.run(["scontrol", "shutdown"], env=self.env, capture_output=True)
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.root / f"{name}.pid"
            if pid.exists():
                try:
                    os.kill(int(pid.read_text().split()[0]), 15)
                except (ProcessLookupError, ValueError):
                    pass


def start(root: Path, cpus: int | None = None) -> Cluster:
    """Start munge, slurmctld and slurmd under `root`; wait until the node takes jobs."""
    missing = [b for b in DAEMONS + CLIENTS if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]
    if missing:
        raise Unavailable(
            f"SLURM is not installed (missing {', '.join(missing)}); `apt-get install slurm-wlm munge` (.ci/run does)"
        )
    if os.geteuid() != 0:
        raise Unavailable("slurmd must run as root to launch jobs; run the SLURM tests as root (CI does)")
    root.mkdir(parents=True, exist_ok=True)
    for d in ("state", "spool", "munge", "bin"):
        (root / d).mkdir(exist_ok=True)
    (root / "munge").chmod(0o700)
    key = root / "munge/munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    socket_path = root / "munge/munge.socket.2"
    cpus = cpus or os.cpu_count() or 1
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=vidstill-test
SlurmctldHost=localhost
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket={socket_path}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobRequeue=1
MinJobAge=3600
ReturnToService=2
NodeName=localhost CPUs={cpus} RealMemory={_memory_mb()} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")
    # The jobstep plugin drops every SLURM_* variable but the job's identity before its nested `srun`, SLURM_CONF
    # included, so an srun inside a job looks for /etc/slurm/slurm.conf. A real cluster has its config there; this
    # one lives in `root`, and a shim first on PATH hands srun the path again.
    shim = root / "bin/srun"
    shim.write_text(f'#!/bin/sh\nSLURM_CONF={conf} exec {shutil.which("srun")} "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "SLURM_CONF": str(conf), "PATH": f"{root / 'bin'}:{os.environ['PATH']}"}
    munged = shutil.which("munged") or "/usr/sbin/munged"
    subprocess.run(
        [
            munged,
            f"--socket={socket_path}",
            f"--key-file={key}",
            f"--log-file={root}/munge/munged.log",
            f"--pid-file={root}/munged.pid",
            f"--seed-file={root}/munge/munged.seed",
            "--force",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    cluster = Cluster(root, env)
    for daemon in ("slurmctld", "slurmd"):
        proc = subprocess.run([shutil.which(daemon) or f"/usr/sbin/{daemon}"], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            cluster.stop()
            raise Unavailable(f"{daemon} did not start: {proc.stderr[-500:]}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout.strip()
        if state in ("idle", "mixed", "allocated"):
            return cluster
        time.sleep(1)
    cluster.stop()
    raise Unavailable(f"the node did not become idle within 60 s (sinfo: {state!r}); logs in {root}")
