"""A Redis master, one replica and a Sentinel watching them, from Debian's redis-server."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.processes import free_port

MASTER_NAME = "leadgate-test"


@dataclass
class OwnSentinelGroup:
    """The master's and replica's ports, the Sentinel's, and their processes."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sentinel-")))
    master_port: int = 0
    replica_port: int = 0
    sentinel_port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _spawn(self, arguments: list[str]) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise FileNotFoundError("redis-server is not installed")
        self.processes.append(
            subprocess.Popen(
                [server, *arguments],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def start(self, timeout: float = 30) -> OwnSentinelGroup:
        """Start the master, the replica (in sync) and the Sentinel (watching the master)."""
        self.master_port, self.replica_port, self.sentinel_port = (free_port() for _ in range(3))
        # Their own directory: a replica's initial sync writes an RDB file there.
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        common += ["--dir", str(self.directory)]
        self._spawn(["--port", str(self.master_port), *common, "--dbfilename", "master.rdb"])
        self._spawn(
            [
                "--port", str(self.replica_port), *common, "--dbfilename", "replica.rdb",
                "--replicaof", "127.0.0.1", str(self.master_port),
            ]
        )  # fmt: skip
        config = self.directory / "sentinel.conf"
        config.write_text(
            "\n".join(
                [
                    f"port {self.sentinel_port}",
                    "bind 127.0.0.1",
                    f"dir {self.directory}",
                    f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master_port} 1",
                    f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
                    f"sentinel failover-timeout {MASTER_NAME} 5000",
                    "",
                ]
            )
        )
        self._spawn([str(config), "--sentinel"])
        deadline = time.monotonic() + timeout
        while not (
            self._in_sync() and self.current_master() == self.master_port and self._replica_known()
        ):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis sentinel group did not come up")
            time.sleep(0.1)
        return self

    def _in_sync(self) -> bool:
        try:
            info = redis.Redis(port=self.replica_port).info("replication")
        except redis.RedisError:
            return False
        return bool(info.get("master_link_status") == "up")

    def _replica_known(self) -> bool:
        # The Sentinel learns replicas from the master's INFO; until then it cannot fail over.
        try:
            replicas = redis.Redis(port=self.sentinel_port, decode_responses=True).execute_command(
                "SENTINEL", "REPLICAS", MASTER_NAME
            )
        except redis.RedisError:
            return False
        return bool(replicas)

    def current_master(self) -> int | None:
        """The port the Sentinel names as master now."""
        try:
            answer = redis.Redis(port=self.sentinel_port, decode_responses=True).execute_command(
                "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME
            )
        except redis.RedisError:
            return None
        return int(answer[1]) if answer else None

    def fail_over(self, timeout: float = 30) -> int:
        """Make the Sentinel promote the replica; the new master's port."""
        deadline = time.monotonic() + timeout
        sentinel = redis.Redis(port=self.sentinel_port)
        while True:
            try:
                sentinel.execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
                break
            except redis.ResponseError as error:
                # The Sentinel learns the replica and its link from the master's INFO, every
                # few seconds: until it has, it knows no replica it may promote.
                if "NOGOODSLAVE" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        while self.current_master() != self.replica_port:
            if time.monotonic() > deadline:
                raise RuntimeError("the sentinel did not fail over")
            time.sleep(0.1)
        return self.replica_port

    def stop(self) -> None:
        """Stop every process and remove the files."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
