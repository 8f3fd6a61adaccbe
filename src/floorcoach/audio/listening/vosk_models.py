"""Vosk model lookup and installation: voice_models/, an env var, or the XDG data dir."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from floorcoach.errors import FloorcoachError, ModelNotFoundError
from floorcoach.paths import VOICE_MODELS_DIR

_LOGGER = logging.getLogger(__name__)

ENV_VAR: Final = "FLOORCOACH_VOSK_MODEL"
REPO_MODELS_DIR: Final = VOICE_MODELS_DIR
"""voice_models/ at the repository root (a source checkout is how the player is run)."""
INSTALL_COMMAND: Final = "floorcoach models install"
DOWNLOAD_TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True)
class ModelSpec:
    """A downloadable model: where it comes from and what it must hash to."""

    name: str
    url: str
    sha256: str
    language: str
    size_mb: int


KNOWN_MODELS: Final[dict[str, ModelSpec]] = {
    "vosk-model-small-en-us-0.15": ModelSpec(
        name="vosk-model-small-en-us-0.15",
        url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
        sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        language="en-us",
        size_mb=40,
    ),
}
DEFAULT_MODEL: Final = "vosk-model-small-en-us-0.15"


def xdg_models_dir() -> Path:
    """$XDG_DATA_HOME/floorcoach/voice_models (or ~/.local/share/...)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "floorcoach" / "voice_models"


def is_vosk_model(path: Path) -> bool:
    """A directory laid out like a Vosk model (am/ and conf/, or a final.mdl somewhere)."""
    if not path.is_dir():
        return False
    if (path / "am").is_dir() and (path / "conf").is_dir():
        return True
    return (path / "final.mdl").is_file() or (path / "am" / "final.mdl").is_file()


def is_english(path: Path) -> bool:
    """Whether a model directory's name says English (vosk-model-*-en-*)."""
    parts = path.name.lower().replace("_", "-").split("-")
    return "en" in parts or "english" in parts


def search_dirs() -> list[Path]:
    """The folders searched for models, in order."""
    return [REPO_MODELS_DIR, xdg_models_dir()]


def installed_models() -> list[Path]:
    """Every Vosk model directory found in the search folders."""
    found: list[Path] = []
    for folder in search_dirs():
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if is_vosk_model(child):
                found.append(child)
    return found


def find_vosk_model(explicit: Path | str | None = None, english: bool = True) -> Path:
    """The model to use: explicit path, then $FLOORCOACH_VOSK_MODEL, then the search folders.

    Raises ModelNotFoundError naming every place looked at and the install command.
    """
    looked: list[str] = []
    for candidate, source in ((explicit, "given path"), (os.environ.get(ENV_VAR), ENV_VAR)):
        if not candidate:
            continue
        path = Path(candidate).expanduser()
        if is_vosk_model(path):
            return path
        looked.append(f"{path} ({source})")
        if source == "given path":
            raise ModelNotFoundError(f"no Vosk model at {path}; run '{INSTALL_COMMAND}'")
    for folder in search_dirs():
        looked.append(f"{folder}/*")
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if is_vosk_model(child) and (is_english(child) or not english):
                return child
    kind = "English Vosk model" if english else "Vosk model"
    raise ModelNotFoundError(
        f"no {kind} found (searched {', '.join(looked)}); run '{INSTALL_COMMAND}'"
    )


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_model(
    name: str = DEFAULT_MODEL,
    dest_dir: Path | None = None,
    url: str | None = None,
    sha256: str | None = None,
) -> Path:
    """Download, verify and unpack a model; returns its directory.

    `url`/`sha256` override the known values (tests use a file:// URL; sha256="" skips the
    check, for archives made by hand). Raises
    FloorcoachError with one line on network, checksum or archive problems.
    """
    spec = KNOWN_MODELS.get(name)
    if spec is None and url is None:
        raise FloorcoachError(f"unknown model {name!r}; known: {', '.join(KNOWN_MODELS)}")
    source = url or (spec.url if spec else "")
    expected = sha256 if sha256 is not None else (spec.sha256 if spec else None)
    dest = dest_dir or REPO_MODELS_DIR
    target = dest / name
    if is_vosk_model(target):
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        archive = Path(tmp) / f"{name}.zip"
        _download(source, archive, dest, name)
        if expected:
            got = sha256_of(archive)
            if got != expected:
                raise FloorcoachError(
                    f"{source}: SHA-256 {got} does not match the expected {expected}; not installed"
                )
        unpacked = Path(tmp) / "unpacked"
        _unzip(archive, unpacked)
        root = _model_root(unpacked)
        if root is None:
            raise FloorcoachError(f"{source}: the archive holds no Vosk model (no am/ and conf/)")
        shutil.move(str(root), str(target))
    _LOGGER.info("installed %s into %s", name, target)
    return target


def _download(url: str, archive: Path, dest: Path, name: str) -> None:
    try:
        with (
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response,
            archive.open("wb") as out,
        ):
            shutil.copyfileobj(response, out, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FloorcoachError(
            f"could not download {url} ({reason}); offline, download {name}.zip on another"
            f" machine and unpack it into {dest}/ (so that {dest / name}/am exists)"
        ) from None


def _unzip(archive: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                resolved = (into / member).resolve()
                if not resolved.is_relative_to(into.resolve()):
                    raise FloorcoachError(f"{archive.name}: unsafe path {member!r} in the archive")
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise FloorcoachError(f"{archive.name}: not a zip archive ({exc})") from None


def _model_root(unpacked: Path) -> Path | None:
    if is_vosk_model(unpacked):
        return unpacked
    for child in sorted(unpacked.iterdir()):
        if is_vosk_model(child):
            return child
    return None
