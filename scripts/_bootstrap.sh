# shellcheck shell=bash
# Sourced by scripts/test and scripts/play: make sure the system packages, the .venv and the
# editable install exist, doing only what is missing. Silent when nothing is to be done.
#
# Sets FC_ROOT (the repo root) and FC_VENV. Returns non-zero (after saying why) only when the
# project cannot run at all: no usable Python, or the venv/pip install failed. A missing apt
# package that cannot be installed is reported and skipped, since the player can still run in
# text mode without a sound server.
#
# Environment knobs: FLOORCOACH_PYTHON (interpreter used to create .venv, default python3),
# FLOORCOACH_SKIP_APT=1 (never touch apt). FC_EXTRAS: the extras installed (default "dev";
# scripts/test sets "dev,piper" so the Piper voice's tests run, never skipped; piper-tts is
# GPL-3.0 and stays out of the default install and of scripts/install-pi). FC_APT_EXTRA:
# more apt packages, space-separated (scripts/test adds shellcheck, which its tests use).

FC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FC_VENV="$FC_ROOT/.venv"
FC_EXTRAS="${FC_EXTRAS:-dev}"

_FC_APT_PACKAGES=(libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils espeak-ng sox flite)
_FC_MIN_PY="3.11"
_FC_STAMP="$FC_VENV/.floorcoach-bootstrap.sha256"

_fc_say() { printf 'bootstrap: %s\n' "$*" >&2; }

# Print the packages from "$@" that dpkg does not report as installed.
_fc_missing_debs() {
    local installed
    installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
        awk '$2 == "ii" { print $1 }')"
    local pkg
    for pkg in "$@"; do
        grep -qxF "$pkg" <<<"$installed" || printf '%s\n' "$pkg"
    done
}

# Exit codes: 0 ok, 3 Python too old, 4 floorcoach not importable from this repo, other: broken.
_fc_venv_check() {
    "$FC_VENV/bin/python" - "$FC_ROOT" 2>/dev/null <<'EOF'
import os
import sys

if sys.version_info < (3, 11):
    sys.exit(3)
try:
    import floorcoach
except Exception:
    sys.exit(4)
src = os.path.realpath(os.path.join(sys.argv[1], "src"))
sys.exit(0 if os.path.realpath(floorcoach.__file__).startswith(src + os.sep) else 4)
EOF
}

_fc_ensure_apt() {
    [[ "${FLOORCOACH_SKIP_APT:-0}" == 1 ]] && return 0
    if ! command -v dpkg-query >/dev/null 2>&1; then
        _fc_say "not a Debian-based system; make sure these are installed: ${_FC_APT_PACKAGES[*]}"
        return 0
    fi
    local wanted=("${_FC_APT_PACKAGES[@]}")
    local extra
    read -r -a extra <<<"${FC_APT_EXTRA:-}"
    wanted+=("${extra[@]}")
    # Debian's python3 ships venv/ensurepip separately; only needed if .venv must be created.
    if [[ ! -x "$FC_VENV/bin/python" ]] && [[ -z "${FLOORCOACH_PYTHON:-}" ]] &&
        [[ "$(command -v python3 2>/dev/null)" == /usr/bin/python3 ]] &&
        ! /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1; then
        wanted+=(python3-venv)
    fi
    local missing
    mapfile -t missing < <(_fc_missing_debs "${wanted[@]}")
    ((${#missing[@]} == 0)) && return 0

    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
            sudo=(sudo -n)
        else
            _fc_say "missing system packages (no root, no passwordless sudo), please run:" \
                "sudo apt-get install --no-install-recommends ${missing[*]}"
            return 0
        fi
    fi

    _fc_say "installing system packages: ${missing[*]}"
    local log rc=0
    log="$(mktemp "${TMPDIR:-/tmp}/floorcoach-apt.XXXXXX")"
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
    "${apt[@]}" update -q >"$log" 2>&1 || rc=$?
    # A failed update (one unreachable mirror) does not stop us: the lists may still be usable.
    "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || rc=$?
    mapfile -t missing < <(_fc_missing_debs "${missing[@]}")
    if ((${#missing[@]} > 0)); then
        _fc_say "ERROR: apt-get could not install: ${missing[*]} (apt exit $rc); last lines:"
        tail -n 15 "$log" | sed 's/^/    /' >&2
        _fc_say "continuing; sound and speech may not work until they are installed"
    fi
    rm -f "$log"
    return 0
}

_fc_create_venv() {
    local py="${FLOORCOACH_PYTHON:-python3}"
    if ! command -v "$py" >/dev/null 2>&1; then
        _fc_say "ERROR: '$py' not found; floorcoach needs Python >= $_FC_MIN_PY" \
            "(Debian 12: apt-get install python3 python3-venv; or set FLOORCOACH_PYTHON)"
        return 1
    fi
    local version
    version="$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)"
    if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        _fc_say "ERROR: floorcoach needs Python >= $_FC_MIN_PY, but $(command -v "$py") is" \
            "${version:-unusable}; install python3.11 or set FLOORCOACH_PYTHON=/path/to/python3.11"
        return 1
    fi
    _fc_say "creating .venv with Python $version"
    local out
    if ! out="$("$py" -m venv --clear "$FC_VENV" 2>&1)"; then
        printf '%s\n' "$out" | tail -n 8 | sed 's/^/    /' >&2
        _fc_say "ERROR: could not create $FC_VENV (on Debian: apt-get install python3-venv)"
        return 1
    fi
}

# The stamp records pyproject.toml's hash and the extras installed (a line each): it is current
# when the hash matches and every extra wanted now is among those installed, so scripts/play
# (dev) after scripts/test (dev,piper) installs nothing again.
_fc_stamp_text() {
    sha256sum <"$FC_ROOT/pyproject.toml"
    printf '%s\n' "$FC_EXTRAS"
}

_fc_stamp_current() {
    [[ -f "$_FC_STAMP" ]] || return 1
    local hash extras
    { IFS= read -r hash; IFS= read -r extras; } <"$_FC_STAMP"
    [[ "$hash" == "$(sha256sum <"$FC_ROOT/pyproject.toml")" ]] || return 1
    local extra
    for extra in ${FC_EXTRAS//,/ }; do
        [[ ",$extras," == *",$extra,"* ]] || return 1
    done
}

_fc_pip_install() {
    _fc_say "installing floorcoach into .venv (pip install -e '.[$FC_EXTRAS]', may take minutes)"
    local log="$FC_VENV/.floorcoach-pip.log"
    if ! (cd "$FC_ROOT" && PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$FC_VENV/bin/python" -m pip install -q -e ".[$FC_EXTRAS]") >"$log" 2>&1; then
        _fc_say "ERROR: pip install -e '.[$FC_EXTRAS]' failed; last lines of $log:"
        tail -n 30 "$log" | sed 's/^/    /' >&2
        rm -f "$_FC_STAMP"
        return 1
    fi
    if ! _fc_venv_check; then
        _fc_say "ERROR: pip finished but floorcoach is still not importable from $FC_ROOT/src;" \
            "see $log"
        return 1
    fi
    _fc_stamp_text >"$_FC_STAMP"
}

_fc_ensure_venv() {
    local rc=0
    _fc_venv_check || rc=$?
    if ((rc == 0)) && _fc_stamp_current; then
        return 0
    fi
    if ((rc == 3)); then
        _fc_say "ERROR: $FC_VENV uses $("$FC_VENV/bin/python" -V 2>&1); floorcoach needs" \
            "Python >= $_FC_MIN_PY. Remove .venv and run again (FLOORCOACH_PYTHON picks the interpreter)."
        return 1
    fi

    # Other scripts of this checkout may bootstrap at the same moment: serialize the slow part.
    local lock_fd=""
    if command -v flock >/dev/null 2>&1; then
        local lock
        lock="${TMPDIR:-/tmp}/floorcoach-bootstrap-$(id -u)-$(printf '%s' "$FC_ROOT" | cksum | cut -d' ' -f1).lock"
        if exec {lock_fd}>>"$lock"; then
            flock "$lock_fd" || true
        else
            lock_fd=""
        fi
        # Someone else may have finished the job while we waited.
        rc=0
        _fc_venv_check || rc=$?
        if ((rc == 0)) && _fc_stamp_current; then
            exec {lock_fd}>&-
            return 0
        fi
    fi

    local status=0
    if ((rc != 0 && rc != 4)); then
        _fc_create_venv || status=$?
    fi
    ((status == 0)) && { _fc_pip_install || status=$?; }
    [[ -n "$lock_fd" ]] && exec {lock_fd}>&-
    return "$status"
}

fc_bootstrap() {
    _fc_ensure_apt && _fc_ensure_venv
}

fc_bootstrap
