"""Checks that turn a missing prerequisite into one line naming the fix.

:func:`before_refresh` runs before a refresh starts (in the CLI, and as the
DAG's first task), so that a wrong setting fails in a second with its cause
instead of after minutes of retries.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from core import settings
from core.errors import ConfigurationError


def require_java() -> None:
    java = shutil.which("java")
    if java is None:
        raise ConfigurationError("Java is missing: Spark needs a JDK 17 (run `make setup`, or `apt-get install openjdk-17-jre-headless`)")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    if not any(f'version "{v}' in out for v in ("17", "21")):
        raise ConfigurationError(f"Java 17 or 21 is needed for Spark 4, found: {out.splitlines()[0] if out else 'unknown'}")


def require_tesseract(languages: tuple[str, ...] = ("eng", "kor")) -> None:
    """Tesseract on PATH and its ``languages`` loadable: OCR of a blank image with them, as clean_covers runs it
    (a listed language whose data cannot be read, e.g. under a wrong TESSDATA_PREFIX, fails here, not minutes later)."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise ConfigurationError("tesseract is missing: run `make setup` (apt-get install tesseract-ocr tesseract-ocr-kor tesseract-ocr-eng)")
    done = subprocess.run([exe, "stdin", "stdout", "-l", "+".join(languages)], input=_BLANK_PNG, capture_output=True,
                          timeout=60)
    failed = [lang for lang in languages if f"Failed loading language '{lang}'".encode() in done.stderr]
    if done.returncode == 0 and not failed:
        return
    missing = failed or list(languages)
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        raise ConfigurationError(f"tesseract cannot load {'+'.join(missing)}: no readable "
                                 f"{missing[0]}.traineddata under TESSDATA_PREFIX={prefix}: point it at the folder "
                                 "holding them, or unset it")
    raise ConfigurationError(f"tesseract cannot load language data {'+'.join(missing)}: apt-get install "
                             + " ".join(f"tesseract-ocr-{m}" for m in missing))


# An 8x8 white PNG: enough for tesseract to load its languages and find no text.
_BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000008000000080800000000e164e157"
    "0000000e49444154789c63f80f050c943100f7c03fc1b23441bb0000000049454e44ae426082")


def require_writable_home(home: Path) -> None:
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigurationError(f"SCENETUNE_HOME={home} is not writable ({exc.strerror}): set SCENETUNE_HOME to a folder you own") from None


def require_free_port(port: int, host: str = "127.0.0.1") -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            raise ConfigurationError(f"port {port} on {host} is in use: choose another with SCENETUNE_DEMO_PORT (0 picks a free one)") from None


def require_scrapy_settings(module: str) -> None:
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise ConfigurationError(
            f"SCRAPY_SETTINGS_MODULE={module!r} cannot be imported: use crawlers.settings.base, .dev or .prod"
        )


def before_refresh() -> settings.Settings:
    """Every setting readable and valid, Java for Spark, Tesseract with its kor+eng data (clean_covers), a
    writable home, a free demo-site port."""
    s = settings.load()  # raises ConfigurationError naming the variable
    require_writable_home(s.home)
    require_java()
    require_tesseract()
    require_scrapy_settings(s.scrapy_settings_module)
    if not s.genie_base_url:
        require_free_port(s.demo_port)
    return s


def report(home: Path) -> list[tuple[str, str]]:
    """Each prerequisite with "ok" or the one-line fix (for `scenetune status`)."""
    checks = (
        ("java", require_java),
        ("tesseract (eng, kor)", require_tesseract),
        ("SCENETUNE_HOME writable", lambda: require_writable_home(home)),
    )
    out = []
    for name, check in checks:
        try:
            check()
            out.append((name, "ok"))
        except ConfigurationError as exc:
            out.append((name, str(exc)))
    return out
