"""Vosk model lookup and `floorcoach models install` (offline here: file:// and fake zips)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

import floorcoach.audio.listening.vosk_models as models
from floorcoach.cli import main
from floorcoach.errors import FloorcoachError, ModelNotFoundError


def fake_model(folder: Path) -> Path:
    (folder / "am").mkdir(parents=True)
    (folder / "conf").mkdir()
    (folder / "am" / "final.mdl").write_bytes(b"x")
    (folder / "conf" / "model.conf").write_text("--sample-frequency=16000\n")
    return folder


def fake_zip(path: Path, top: str = "vosk-model-small-en-us-0.15") -> str:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{top}/am/final.mdl", b"x")
        zf.writestr(f"{top}/conf/model.conf", "--sample-frequency=16000\n")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    repo = tmp_path / "voice_models"
    monkeypatch.setattr(models, "REPO_MODELS_DIR", repo)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(models.ENV_VAR, raising=False)
    return repo


def test_lookup_order(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        models.find_vosk_model()
    assert str(isolated) in str(info.value)
    assert "floorcoach models install" in str(info.value)
    xdg = fake_model(tmp_path / "xdg" / "floorcoach" / "voice_models" / "vosk-model-en-us-0.22")
    assert models.find_vosk_model() == xdg
    repo = fake_model(isolated / "vosk-model-small-en-us-0.15")
    assert models.find_vosk_model() == repo
    env = fake_model(tmp_path / "elsewhere")
    monkeypatch.setenv(models.ENV_VAR, str(env))
    assert models.find_vosk_model() == env
    explicit = fake_model(tmp_path / "given")
    assert models.find_vosk_model(explicit) == explicit
    with pytest.raises(ModelNotFoundError):
        models.find_vosk_model(tmp_path / "no-such-model")


def test_a_korean_model_is_not_taken_for_english(isolated: Path) -> None:
    fake_model(isolated / "vosk-model-small-ko-0.22")
    with pytest.raises(ModelNotFoundError):
        models.find_vosk_model()
    assert models.find_vosk_model(english=False).name == "vosk-model-small-ko-0.22"


def test_install_from_file_url_checks_sha_and_unpacks(isolated: Path, tmp_path: Path) -> None:
    archive = tmp_path / "model.zip"
    digest = fake_zip(archive)
    path = models.install_model(url=archive.as_uri(), sha256=digest)
    assert path == isolated / "vosk-model-small-en-us-0.15"
    assert models.is_vosk_model(path)
    assert models.find_vosk_model() == path
    assert not list(isolated.glob(".download-*"))


def test_install_refuses_a_wrong_checksum(isolated: Path, tmp_path: Path) -> None:
    archive = tmp_path / "model.zip"
    fake_zip(archive)
    with pytest.raises(FloorcoachError, match="SHA-256"):
        models.install_model(url=archive.as_uri(), sha256="0" * 64)
    assert not (isolated / "vosk-model-small-en-us-0.15").exists()


def test_install_refuses_archives_without_a_model(isolated: Path, tmp_path: Path) -> None:
    archive = tmp_path / "junk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(FloorcoachError, match="no Vosk model"):
        models.install_model(url=archive.as_uri(), sha256="")
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"plain text")
    with pytest.raises(FloorcoachError, match="not a zip"):
        models.install_model(url=not_zip.as_uri(), sha256="")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escape.txt", "x")
    with pytest.raises(FloorcoachError, match="unsafe"):
        models.install_model(url=evil.as_uri(), sha256="")


def test_offline_install_says_where_to_put_a_model(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No network on the test machines: an unreachable host stands for it everywhere.
    code = main(
        ["models", "install", "--url", "http://127.0.0.1:9/vosk-model-small-en-us-0.15.zip"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "could not download" in err
    assert str(isolated) in err


def test_default_install_uses_the_official_url_and_checksum(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def fake_download(url: str, archive: Path, dest: Path, name: str) -> None:
        seen.append(url)
        raise FloorcoachError("offline")

    monkeypatch.setattr(models, "_download", fake_download)
    with pytest.raises(FloorcoachError):
        models.install_model()
    assert seen == ["https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"]
    assert len(models.KNOWN_MODELS["vosk-model-small-en-us-0.15"].sha256) == 64


def test_models_list(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "installed: none" in out
    assert "pocketsphinx" in out
    fake_model(isolated / "vosk-model-small-en-us-0.15")
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert f"installed: {isolated / 'vosk-model-small-en-us-0.15'}" in out
    assert "auto engine uses: vosk" in out
