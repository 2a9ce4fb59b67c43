"""Checks that turn a missing prerequisite into one line naming the fix.

:func:`before_refresh` runs before a refresh starts (in the CLI, and as the
DAG's first task), so that a wrong setting fails in a second with its cause
instead of after minutes of retries.
"""

from __future__ import annotations

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
    exe = shutil.which("tesseract")
    if exe is None:
        raise ConfigurationError("tesseract is missing: run `make setup` (apt-get install tesseract-ocr tesseract-ocr-kor tesseract-ocr-eng)")
    listed = subprocess.run([exe, "--list-langs"], capture_output=True, text=True).stdout.split()
    missing = [lang for lang in languages if lang not in listed]
    if missing:
        raise ConfigurationError(f"tesseract lacks language data {missing}: apt-get install " + " ".join(f"tesseract-ocr-{m}" for m in missing))


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
    """Every setting readable and valid, Java for Spark, a writable home, a free demo-site port."""
    s = settings.load()  # raises ConfigurationError naming the variable
    require_writable_home(s.home)
    require_java()
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
