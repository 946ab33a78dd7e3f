#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: real shells, direnv, shellcheck, tmux,
# and Python tools (moto serves STS on loopback). Safe to run again; does nothing when all is there.
set -euo pipefail

need_apt=()
for tool in zsh fish direnv shellcheck tmux; do
  command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool")
done
# The tests also use util-linux (unshare, mount) and a Python that can make a venv.
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need_apt+=(python3 python3-venv python3-pip)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: missing ${need_apt[*]}; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# moto's server, in a venv of our own so the system Python stays untouched.
venv="${BEDROCK_ENV_TEST_VENV:-$HOME/.cache/bedrock-env-test-venv}"
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
fi
echo "$venv"
