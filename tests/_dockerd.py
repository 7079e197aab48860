"""A real Docker engine for the tests: ``dockerd`` on its own socket, data and exec roots.

The engine runs without a bridge or iptables rules, on the vfs storage driver, with
``--live-restore`` so that its containers outlive a restart of the daemon (as a production
engine configured so does).  Images come from no registry: `BUSYBOX` is imported from a tarball
of Debian's ``busybox-static``.  Containers run busybox ``httpd`` in ``host`` network mode, on
free loopback ports, so only 127.0.0.1 ever receives traffic.  The CLI drives the engine, so
the provider under test is not also the tool that checks it.  Beside its unix socket the engine
listens on ``tcp://127.0.0.1:<port>`` with TLS and client certificates required
(``--tlsverify``), the set-up Docker's docs give for a remote engine; `tls_endpoint` and the
``*.pem`` files under its root are what a client needs.

A missing ``dockerd`` is a failure, not a skip: CI installs ``docker.io`` and
``busybox-static`` (``.ci/run``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tarfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import trustme

from _sockets import free_port

BUSYBOX = "routekit-busybox:1"
_BUSYBOX_BINARY = ("/bin/busybox", "/usr/bin/busybox")


class Dockerd:
    """One engine: start, stop, and drive it with the ``docker`` CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.endpoint = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.tls_endpoint = f"tcp://127.0.0.1:{free_port()}"
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(root / "ca.pem"))
        server = ca.issue_cert("127.0.0.1", "localhost")
        server.cert_chain_pems[0].write_to_path(str(root / "server-cert.pem"))
        server.private_key_pem.write_to_path(str(root / "server-key.pem"))
        client = ca.issue_cert("routekit-client.example")
        client.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
        client.private_key_pem.write_to_path(str(root / "key.pem"))
        missing = [b for b in ("dockerd", "docker") if shutil.which(b) is None]
        if missing:
            pytest.fail(f"{', '.join(missing)} not found: install Debian's docker.io")

    def start(self) -> None:
        """Start the daemon and wait until it answers."""
        (self.root / "daemon.json").write_text("{}")
        command = [
            "dockerd",
            "--config-file", str(self.root / "daemon.json"),
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "dockerd.pid"),
            "-H", self.endpoint,
            "-H", self.tls_endpoint,
            "--tlsverify",
            "--tlscacert", str(self.root / "ca.pem"),
            "--tlscert", str(self.root / "server-cert.pem"),
            "--tlskey", str(self.root / "server-key.pem"),
            "--iptables=false", "--ip6tables=false", "--bridge=none",
            "--storage-driver=vfs", "--live-restore",
        ]  # fmt: skip
        with (self.root / "dockerd.log").open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"dockerd exited with {self.proc.returncode}: {self.log_tail()}")
            done = subprocess.run(
                ["docker", "-H", self.endpoint, "version"], capture_output=True, check=False
            )
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"dockerd did not answer in 60 s: {self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the daemon (SIGTERM) and wait for it; its containers keep running."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None

    def log_tail(self) -> str:
        """The last lines the daemon logged."""
        path = self.root / "dockerd.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return "\n".join(lines[-15:])

    def cli(self, *args: str) -> str:
        """Run ``docker <args>`` against this engine; its output, stripped."""
        done = subprocess.run(
            ["docker", "-H", self.endpoint, *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def import_busybox(self) -> None:
        """Make `BUSYBOX` from the machine's static busybox, without any registry."""
        binary = next((b for b in _BUSYBOX_BINARY if Path(b).is_file()), None)
        if binary is None:
            pytest.fail("busybox not found: install Debian's busybox-static")
        tarball = self.root / "busybox.tar"
        with tarfile.open(tarball, "w") as tar:
            tar.add(binary, arcname="bin/busybox")
            shell = tarfile.TarInfo("bin/sh")  # health checks run through /bin/sh -c
            shell.type = tarfile.SYMTYPE
            shell.linkname = "busybox"
            tar.addfile(shell)
            for name in ("tmp", "www"):
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE
                info.mode = 0o1777
                tar.addfile(info)
        self.cli("import", str(tarball), BUSYBOX)

    def run(
        self,
        name: str,
        labels: Mapping[str, str] | None = None,
        *,
        port: int | None = None,
        healthy_file: bool = False,
        network: str = "host",
        publish: int | None = None,
    ) -> tuple[str, int]:
        """Start a container serving ``<name>\\n`` on 127.0.0.1:*port*; its id and port.

        With *healthy_file*, its health check passes while ``/tmp/healthy`` exists (it does at
        start): ``docker exec <name> busybox rm /tmp/healthy`` makes it unhealthy.  On another
        *network* than ``host`` it serves on port 80 of its own addresses (port is 80), and
        *publish* publishes that port on 127.0.0.1:<publish> (``-p``), the one way its page
        is reached from the host.
        """
        if network == "host":
            port = port or free_port()
            listen = f"127.0.0.1:{port}"
        else:
            port, listen = 80, "80"
        script = (
            f"echo {name} > /www/index.html && busybox touch /tmp/healthy && "
            f"exec busybox httpd -f -p {listen} -h /www"
        )
        args = ["run", "-d", "--init", "--network", network, "--name", name]
        if publish is not None:
            args += ["-p", f"127.0.0.1:{publish}:80"]
        for key, value in (labels or {}).items():
            args += ["--label", f"{key}={value}"]
        if healthy_file:
            args += [
                "--health-cmd", "busybox test -f /tmp/healthy",
                "--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "1",
            ]  # fmt: skip
        ident = self.cli(*args, "-e", "PATH=/bin", BUSYBOX, "/bin/busybox", "sh", "-c", script)
        return ident, port

    def remove_all(self) -> None:
        """Remove every container and the networks tests made (between tests)."""
        ids = self.cli("ps", "-aq").split()
        if ids:
            self.cli("rm", "-f", *ids)
        # A network is a bridge interface on the machine: none is left behind.
        self.cli("network", "prune", "-f")

    def kill_leftovers(self) -> None:
        """Kill containerd and the shims this engine left (live restore keeps them), and
        unmount what it mounted under its roots (the network namespace, the vfs layers)."""
        mark = str(self.root).encode()
        for pid_dir in Path("/proc").iterdir():
            if not pid_dir.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if mark in (pid_dir / "cmdline").read_bytes():
                    os.kill(int(pid_dir.name), signal.SIGKILL)
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        for point in sorted((m for m in mounts if m.startswith(str(self.root))), reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)


@contextlib.contextmanager
def dockerd(root: Path) -> Iterator[Dockerd]:
    """A started engine with `BUSYBOX` imported; everything it ran is gone afterwards."""
    engine = Dockerd(root)
    engine.start()
    try:
        engine.import_busybox()
        yield engine
    finally:
        if engine.proc is None:
            engine.start()
        with contextlib.suppress(AssertionError):
            engine.remove_all()
        engine.stop()
        engine.kill_leftovers()
