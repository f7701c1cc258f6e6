"""kefu as a user installs it: a wheel built from the checkout, installed
into a fresh virtual environment outside it (importable by tests; used by
tests/test_wheel.py and the plugin kit's tests in tests/devkit/).

A new environment borrows kefu's dependencies from the test environment (a
path entry to its site-packages, whose .pth files - the editable install of
kefu among them - are not processed there), so it costs no download; what
it runs is the wheel, and what is pip-installed into it stays there.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args, cwd, env, timeout=600) -> str:
    """Run ``args``; its stdout, or an assertion error with both outputs."""
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def build_wheel(base: Path) -> Path:
    """Build kefu's wheel from a copy of the checkout's files (the build
    writes build/ and *.egg-info next to the sources); its path."""
    source = base / "src"
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if not (ROOT / name).is_file():
            continue
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    dist = base / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", dist, source], cwd=base, env=os.environ.copy())
    [wheel] = list(dist.glob("kefu-*.whl"))
    return wheel


class Venv:
    """A virtual environment with kefu's wheel installed (``python``,
    ``bin``, ``env`` without the suite's KEFU_ variables, ``pip_install``)."""

    def __init__(self, path: Path, wheel: Path):
        self.path = path
        self.bin = path / "bin"
        self.python = self.bin / "python"
        run([sys.executable, "-m", "venv", "--without-pip", path], cwd=path.parent, env=os.environ.copy())
        purelib = Path(run([self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           cwd=path.parent, env=os.environ.copy()).strip())
        (purelib / "kefu_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("KEFU_", "PYTEST_")) and k != "PYTHONPATH"}
        # The venv's own scripts first: `kefu` is the wheel's.
        self.env["PATH"] = f"{self.bin}{os.pathsep}{self.env.get('PATH', '')}"
        self.pip_install(wheel)

    def pip_install(self, *args, cwd: Path | None = None) -> str:
        """``pip install`` into this environment, offline, without
        dependencies (they come from the test environment)."""
        return run([sys.executable, "-m", "pip", "--python", self.python, "install", "--quiet",
                    "--disable-pip-version-check", "--no-deps", "--no-build-isolation", "--no-index", *args],
                   cwd=cwd or self.path.parent, env=self.env)
