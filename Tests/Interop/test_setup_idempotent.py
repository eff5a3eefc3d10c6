"""The set-up is idempotent: with everything installed, a second `make test` installs nothing.

ensure-packages.sh is run with an apt-get that records any call and fails; the packages the
Makefile lists are all present after the first run, so it must not be called. The venv stamp must
be up to date, so make would not re-run pip."""
import os
import re
import stat
import subprocess
import tempfile
from pathlib import Path

from conftest import ROOT


def makefile_packages():
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    names = []
    for var in ("BUILD_PACKAGES", "TEST_PACKAGES"):
        names += re.search(rf"^{var} := (.*)$", text, re.M).group(1).split()
    return names


def fake_package_tools(fake_bin, exit_code):
    """apt-get and sudo stand-ins that record each call in calls.log; returns (env, log)."""
    log = Path(fake_bin) / "calls.log"
    for tool in ("apt-get", "sudo"):
        script = Path(fake_bin) / tool
        script.write_text(f"#!/bin/sh\necho {tool} \"$@\" >> {log}\nexit {exit_code}\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return dict(os.environ, PATH=f"{fake_bin}:{os.environ['PATH']}"), log


def test_second_run_installs_no_package():
    with tempfile.TemporaryDirectory() as fake_bin:
        env, log = fake_package_tools(fake_bin, exit_code=1)
        packages = makefile_packages()
        assert "libopus-dev" in packages and "chromium" in packages
        proc = subprocess.run([str(ROOT / "tools" / "ensure-packages.sh"), *packages], env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert not log.exists(), log.read_text()
        assert proc.stdout == ""


def test_missing_package_would_be_installed():
    """The same script does call apt-get for a package that is not installed (so the check above
    is not passing vacuously)."""
    with tempfile.TemporaryDirectory() as fake_bin:
        env, log = fake_package_tools(fake_bin, exit_code=0)
        proc = subprocess.run([str(ROOT / "tools" / "ensure-packages.sh"), "shihui-no-such-package"], env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0
        assert "install" in log.read_text() and "shihui-no-such-package" in log.read_text()


def test_venv_is_up_to_date():
    proc = subprocess.run(["make", "-q", "-C", str(ROOT), ".venv/.installed"], capture_output=True)
    assert proc.returncode == 0, "make would reinstall the venv"
