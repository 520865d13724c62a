"""A three-master Redis Cluster of the tests' own, from Debian's redis-server and redis-cli."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def node_port() -> int:
    """A free port whose cluster bus port (10000 above it, within range) is free too."""
    # The kernel's ephemeral ports run past 55535, where the bus port would not exist.
    for _ in range(1000):
        port = random.randrange(20000, 40000)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def cluster_tools() -> tuple[str, str] | None:
    """The redis-server and redis-cli executables, or None when either is missing."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    return (server, cli) if server and cli else None


@dataclass
class OwnRedisCluster:
    """Three masters on free loopback ports, slots split evenly, no replicas."""

    masters: int = 3
    ports: list[int] = field(default_factory=list)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="redis-cluster-")))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The URL of one node: a cluster client finds the others from it."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, timeout: float = 30) -> OwnRedisCluster:
        """Start the nodes, join them into a cluster, and wait until every slot is served."""
        tools = cluster_tools()
        if tools is None:
            raise FileNotFoundError("redis-server and redis-cli are needed for a cluster")
        server, cli = tools
        self.ports = [node_port() for _ in range(self.masters)]
        for port in self.ports:
            node = self.directory / str(port)
            node.mkdir()
            arguments = [
                server, "--port", str(port), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000", "--dir", str(node),
                "--save", "", "--appendonly", "no", "--logfile", str(node / "log"),
            ]  # fmt: skip
            self.processes.append(
                subprocess.Popen(
                    arguments,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + timeout
        for port in self.ports:
            while not self._pings(port):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis node on {port} did not start")
                time.sleep(0.05)
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
        while not all(self._serving(port) for port in self.ports):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis cluster did not reach state ok")
            time.sleep(0.1)
        return self

    @staticmethod
    def _pings(port: int) -> bool:
        try:
            return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    @staticmethod
    def _serving(port: int) -> bool:
        info = redis.Redis(port=port, decode_responses=True).cluster("INFO")
        return bool(info.get("cluster_state") == "ok")

    def stop(self) -> None:
        """Stop every node and remove their files."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
