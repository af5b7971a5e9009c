"""What `make test` needs from the system beyond Python: Debian's Chromium and wrk.

Installs what is missing with apt-get when it may (root on Debian or Ubuntu); otherwise stops at
once and names the one command to run. Standard library only: it runs before the venv exists.
"""

import os
import shutil
import subprocess
import sys

# package -> why the suite needs it
WHY = {
    "chromium": "the admin dashboards are tested in a real headless browser",
    "wrk": "the API benchmark scenario drives the Store API with it",
}


def present(package: str) -> bool:
    """Tell whether a package's program is here (CHROMIUM names another browser binary)."""
    if package == "chromium":
        return os.access(os.environ.get("CHROMIUM", "/usr/bin/chromium"), os.X_OK)
    return shutil.which(package) is not None


def missing() -> list[str]:
    """The Debian packages the suite needs that are not installed."""
    return [package for package in WHY if not present(package)]


def can_install() -> bool:
    """Tell whether we may install Debian packages ourselves: root, with apt-get."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install(packages: list[str]) -> int:
    """Install packages with apt-get, quietly and without questions; return its exit code."""
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.call(["apt-get", "update", "-q"], env=env):
        return 1
    return subprocess.call(["apt-get", "install", "-y", "-q", *packages], env=env)


def main() -> int:
    """Install or name what is missing; exit non-zero when it is still missing."""
    packages = missing()
    if not packages:
        return 0
    for package in packages:
        print(f"[prerequisites] {package} is missing: {WHY[package]}", flush=True)
    if can_install():
        print(f"[prerequisites] installing {' '.join(packages)} with apt-get", flush=True)
        return install(packages) or int(bool(missing()))
    command = f"sudo apt-get install -y {' '.join(packages)}"
    print(f"[prerequisites] install them first (Debian/Ubuntu): {command}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
