"""Another revision of this repository, run as a baseline beside the working tree in one run.

The revision's files are exported with ``git archive`` into a temporary directory. Its services
run from there on this checkout's virtualenv, with that directory first on ``PYTHONPATH`` (it
wins over the editable install), so they run the revision's code under its own Procfile. Its
own migrations build its database and its own bench helper creates the tenant, so the schema
and the rows are the ones that revision shipped, while the stream, the load generator and the
clock are this run's.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.payloads import Tenant
from bench.procfile import REPO_ROOT

# main just before issue 17's trust features (identifier hygiene, fan-in quarantine, match
# explanations, field provenance, source-time ordering, the consent and DNC ledger) were merged:
# B2 with them on is measured against B2 at this revision, side by side.
TRUST_BASELINE_REVISION = "155b86c"

_MIGRATE = (
    "import sys\nfrom models.migrate import upgrade_database\nupgrade_database(sys.argv[1])\n"
)
_CREATE_TENANT = (
    "import json, sys\n"
    "from bench.payloads import create_tenant\n"
    "tenant = create_tenant(sys.argv[1])\n"
    "print(json.dumps({'organization_id': tenant.organization_id,"
    " 'config_id': str(tenant.config_id), 'token': tenant.token}))\n"
)


@dataclass(frozen=True)
class SourceTree:
    """An exported revision: where its files are and which commit they are."""

    revision: str
    commit: str
    root: Path

    def environment(self) -> dict[str, str]:
        """What a process needs on top of the usual environment to run this tree's code."""
        return {"PYTHONPATH": str(self.root)}

    def run_python(self, script: str, *arguments: str) -> str:
        """Run ``script`` on this tree's code in a child; its standard output."""
        finished = subprocess.run(
            [sys.executable, "-c", script, *arguments],
            cwd=self.root,
            env={**os.environ, **self.environment()},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if finished.returncode != 0:
            raise RuntimeError(f"revision {self.revision}: {finished.stderr[-3000:]}")
        return finished.stdout

    def migrate(self, sqlalchemy_url: str) -> None:
        """Build the schema this revision's migrations build."""
        self.run_python(_MIGRATE, sqlalchemy_url)

    def create_tenant(self, sqlalchemy_url: str) -> Tenant:
        """The organization, token and nested-mapping config its bench makes."""
        made = json.loads(self.run_python(_CREATE_TENANT, sqlalchemy_url).strip().splitlines()[-1])
        return Tenant(int(made["organization_id"]), uuid.UUID(made["config_id"]), made["token"])


def export_revision(revision: str, repository: Path = REPO_ROOT) -> SourceTree:
    """Export ``revision``'s files into a new temporary directory; fails when git cannot."""
    commit = subprocess.run(
        ["git", "-C", str(repository), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(repository), "archive", "--format=tar", commit],
        capture_output=True,
        check=True,
    ).stdout
    root = Path(tempfile.mkdtemp(prefix=f"leadgate-rev-{commit[:8]}-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return SourceTree(revision, commit, root)
