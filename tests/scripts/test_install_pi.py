"""scripts/install-pi: the rendered service unit passes `systemd-analyze verify`; dry runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-pi"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze missing: apt-get install systemd"
)


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def _render(install_dir: Path, out: Path) -> Path:
    result = _run("--render-unit", str(install_dir))
    assert result.returncode == 0, result.stderr
    out.write_text(result.stdout)
    return out


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    """Verify as a user unit; the user manager needs a runtime dir, which a container lacks.

    The runtime dir is short-named under /tmp: socket paths in it must fit in 108 bytes,
    and a test worker's tmp_path can be longer than that leaves room for.
    """
    with tempfile.TemporaryDirectory(prefix="fc-xdg-", dir="/tmp") as runtime:
        os.chmod(runtime, 0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        assert SYSTEMD_ANALYZE is not None
        return subprocess.run(
            [SYSTEMD_ANALYZE, "--user", "verify", "--man=no", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )


def _fake_install(root: Path) -> Path:
    exe = root / ".venv" / "bin" / "floorcoach"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return root


@needs_systemd_analyze
def test_the_unit_for_this_checkout_verifies_cleanly(tmp_path: Path) -> None:
    unit = _render(REPO, tmp_path / "floorcoach.service")
    text = unit.read_text()
    assert f'ExecStart="{REPO}/.venv/bin/floorcoach" standby' in text
    assert f"WorkingDirectory={REPO}\n" in text
    for line in (
        "Restart=on-failure",
        "StandardOutput=journal",
        "StandardError=journal",
        "WantedBy=default.target",
    ):
        assert f"\n{line}\n" in text
    assert "@INSTALL_DIR@" not in text
    if not (REPO / ".venv" / "bin" / "floorcoach").exists():
        pytest.fail("no .venv/bin/floorcoach: run scripts/test, which installs the project")
    result = _verify(unit)
    # verify prints a line for every unknown key or bad value, even when it exits 0
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_systemd_analyze
def test_paths_with_spaces_and_percent_signs_survive(tmp_path: Path) -> None:
    root = _fake_install(tmp_path / "my exercises 100%")
    unit = _render(root, tmp_path / "floorcoach.service")
    result = _verify(unit)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    assert "Documentation=file://" in unit.read_text()
    assert "my%%20exercises%%20100%%25/README.md" in unit.read_text()


@needs_systemd_analyze
def test_verify_does_catch_a_broken_unit(tmp_path: Path) -> None:
    # The check above is only worth something if verify fails on a unit that cannot run.
    unit = _render(tmp_path / "not-installed", tmp_path / "floorcoach.service")
    result = _verify(unit)
    assert result.returncode != 0
    assert "not-installed/.venv/bin/floorcoach" in result.stderr


def test_paths_systemd_cannot_quote_are_refused(tmp_path: Path) -> None:
    result = _run("--render-unit", str(tmp_path / 'a"b'))
    assert result.returncode == 1
    assert "contains a quote, backslash or newline" in result.stderr
    assert _run("--render-unit", "relative/dir").returncode == 1


def _home_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    return env


def test_dry_run_install_shows_every_change_and_makes_none(tmp_path: Path) -> None:
    env = _home_env(tmp_path)
    result = _run("--dry-run", "--no-apt", env=env)
    assert result.returncode == 0, result.stderr
    commands = [line[2:] for line in result.stdout.splitlines() if line.startswith("+ ")]
    unit = f"{env['HOME']}/.config/systemd/user/floorcoach.service"
    assert f"write {unit}" in commands
    assert any(c.startswith("loginctl enable-linger ") for c in commands)
    tail = commands[-3:]
    assert tail == [
        "systemctl --user daemon-reload",
        "systemctl --user enable floorcoach.service",
        "systemctl --user restart floorcoach.service",
    ]
    assert not any(c.startswith("apt-get") or " apt-get " in c for c in commands)
    assert list(Path(env["HOME"]).iterdir()) == []  # nothing written


def test_dry_run_uninstall_stops_and_removes_the_unit(tmp_path: Path) -> None:
    env = _home_env(tmp_path)
    unit = Path(env["HOME"]) / ".config/systemd/user/floorcoach.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Unit]\n")
    result = _run("--uninstall", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    commands = [line[2:] for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert commands == [
        "systemctl --user disable --now floorcoach.service",
        f"rm -f {unit}",
        "systemctl --user daemon-reload",
    ]
    assert unit.exists()
    assert "kept:" in result.stdout


def test_unknown_options_are_refused_with_the_usage() -> None:
    result = _run("--frobnicate")
    assert result.returncode == 1
    assert "unknown option: --frobnicate" in result.stderr
    assert "--uninstall" in result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="apt-get install shellcheck")
def test_the_script_is_shellcheck_clean() -> None:
    result = subprocess.run(
        ["shellcheck", str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout
