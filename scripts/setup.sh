#!/usr/bin/env bash
# Idempotent set-up of a fresh machine: system packages, the venv, the project.
# A second run on a ready machine only checks and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

# --- system packages (Debian) ------------------------------------------------------------
apt_needed=()
command -v tesseract >/dev/null 2>&1 || apt_needed+=(tesseract-ocr)
for lang in eng kor; do
  if ! { command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx "$lang"; }; then
    apt_needed+=("tesseract-ocr-$lang")
  fi
done
command -v java >/dev/null 2>&1 || apt_needed+=(openjdk-17-jre-headless)
[ -d /usr/share/fonts/truetype/nanum ] || apt_needed+=(fonts-nanum)        # Korean text on demo covers
[ -d /usr/share/fonts/truetype/dejavu ] || apt_needed+=(fonts-dejavu-core)
command -v docker-compose >/dev/null 2>&1 || apt_needed+=(docker-compose)  # validates docker-compose.yml
command -v chromium >/dev/null 2>&1 || apt_needed+=(chromium)              # renders the photo gallery in tests
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_needed+=(postgresql)  # Airflow's metadata DB in make test-deployment
if ((${#apt_needed[@]})); then
  say "installing Debian packages: ${apt_needed[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install: ${apt_needed[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_needed[@]}" >/dev/null
fi

# --- Python venv ---------------------------------------------------------------------------
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || { echo "setup: Python 3.11 is needed, found $("$PY" --version 2>&1)" >&2; exit 1; }
[ -x .venv/bin/python ] || { say "creating .venv"; "$PY" -m venv .venv; }

stamp=.venv/.scenetune-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
installed='import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ("scenetune", "airflow", "pyspark")))'
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c "$installed" 2>/dev/null; then
  say "ready (.venv up to date)"
  exit 0
fi
# torch first: the CPU wheel on local disk. An unpinned torch would pull a multi-GB CUDA build.
pip_quiet() {  # pip, minus the per-package notes about this machine's absent local indexes
  { .venv/bin/pip install -q --disable-pip-version-check "$@" 2>&1; } | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}
say "installing torch==2.13.0 (CPU)"
pip_quiet torch==2.13.0
say "installing scenetune and its pinned dependencies"
pip_quiet -c constraints.txt -e ".[test]"
echo "$want" > "$stamp"
say "done"
