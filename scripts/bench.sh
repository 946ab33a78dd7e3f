#!/usr/bin/env bash
# Benchmarks anyone can run: prints a Markdown report (docs/benchmarks.md holds the last one).
#   scripts/bench.sh > /tmp/bench.md
# Measures: a cached export/token against `direnv export zsh` (no .envrc), a mint with environment
# credentials against the reference Python generator (installed in a throwaway venv), the
# per-prompt hook cost in bash/zsh/fish (scripts/bench-hooks.sh), 24 shells starting at once,
# memory, and the stripped release binary's size. Needs hyperfine and direnv (apt-get install).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

for tool in hyperfine direnv python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done

cargo build --release --locked --quiet
bin=$root/target/release/bedrock-env
rustc_version=$(rustc --version) # before HOME changes: rustup finds its toolchain through it
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A private HOME with static environment credentials: minting needs no network.
export HOME=$work/home XDG_CACHE_HOME=$work/home/.cache
mkdir -p "$HOME" "$work/empty"
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN BEDROCK_ENV_PROFILE BEDROCK_ENV_REGION BEDROCK_ENV_DURATION BEDROCK_ENV_THRESHOLD BEDROCK_ENV_CACHE_DIR

mean_ms() { # hyperfine JSON -> mean in ms with 3 decimals
  python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$1"
}
bench() { # name, command...
  local name=$1; shift
  hyperfine --style none --warmup 20 --min-runs 200 -N --export-json "$work/$name.json" "$*" >/dev/null 2>&1
  mean_ms "$work/$name.json"
}

echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr);"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $rustc_version; direnv $(direnv version); hyperfine $(hyperfine --version | cut -d' ' -f2)."
echo

"$bin" export >/dev/null # warm the cache
export_ms=$(bench export "$bin export")
token_ms=$(bench token "$bin token")
direnv_ms=$(cd "$work/empty" && bench direnv "direnv export zsh")
echo "### Cached token (the per-prompt fast path)"
echo
echo "| command | mean |"
echo "| --- | --- |"
echo "| \`bedrock-env export\` (cached) | $export_ms ms |"
echo "| \`bedrock-env token\` (cached) | $token_ms ms |"
echo "| \`direnv export zsh\` (no .envrc) | $direnv_ms ms |"
echo
python3 -c 'import sys; e,d=map(float,sys.argv[1:]); print("Cached export takes %.2f of the time of direnv export zsh (target: at most 0.5)." % (e/d))' "$export_ms" "$direnv_ms"
echo

# A mint: --force skips the cache; the lock and the record write are included.
mint_ms=$(bench mint "$bin export --force")
venv=$work/venv
python3 -m venv "$venv" >/dev/null
"$venv/bin/pip" install --quiet --disable-pip-version-check aws-bedrock-token-generator==1.1.0 >/dev/null
cat > "$work/ref.py" <<'PY'
# The reference's own entry point, with the default credential chain (the environment here).
from aws_bedrock_token_generator import provide_token
print(provide_token())
PY
ref_ms=$(hyperfine --style none --warmup 3 --min-runs 20 -N --export-json "$work/ref.json" "$venv/bin/python $work/ref.py" >/dev/null 2>&1; mean_ms "$work/ref.json")
echo "### Minting with environment credentials (a whole process each)"
echo
echo "| command | mean |"
echo "| --- | --- |"
echo "| \`bedrock-env export --force\` | $mint_ms ms |"
echo "| reference Python generator (\`provide_token()\`, same credentials) | $ref_ms ms |"
echo
python3 -c 'import sys; m,r=map(float,sys.argv[1:]); print("bedrock-env mints %.0fx faster than the reference (target: at least 20x)." % (r/m))' "$mint_ms" "$ref_ms"
echo

# 24 shells starting at once with an empty cache, signing through a credential_process profile
# that counts its calls: one mint, 23 cache hits.
cat > "$work/creds.sh" <<SH
#!/bin/sh
echo x >> "$work/calls"
sleep 0.2
printf '{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"secret","SessionToken":"tok","Expiration":"%s"}\n' "\$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
SH
chmod +x "$work/creds.sh"
mkdir -p "$HOME/.aws"
printf '[profile burst]\ncredential_process = %s\nregion = us-east-1\n' "$work/creds.sh" > "$HOME/.aws/config"
: > "$work/calls"
start=$(date +%s%N)
for _ in $(seq 24); do "$bin" token --profile burst > /dev/null & done
wait
burst_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "### 24 shells starting at once (empty cache, credential_process profile)"
echo
echo "All 24 had a token after $burst_ms ms; credential_process ran $(wc -l < "$work/calls") time(s)."
echo "(The script sleeps 200 ms to stand in for a real credential source.)"
echo

echo "### Per-prompt hook cost (fresh token)"
echo
if [ -x scripts/bench-hooks.sh ]; then
  BEDROCK_ENV_BIN=$bin scripts/bench-hooks.sh
else
  echo "scripts/bench-hooks.sh is missing."
fi
echo

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
echo "### Memory and size"
echo
echo "| what | value |"
echo "| --- | --- |"
echo "| max RSS, cached \`export\` | $(rss "$bin" export) KiB |"
echo "| max RSS, \`export --force\` (env credentials) | $(rss "$bin" export --force) KiB |"
echo "| max RSS, mint through credential_process (aws-config, tokio) | $("$bin" clear --profile burst 2>/dev/null; rss "$bin" export --profile burst) KiB |"
echo "| stripped release binary | $(stat -c %s "$bin" | awk '{printf "%.1f MB (%d bytes)", $1/1000000, $1}') |"
