#!/usr/bin/env bash
# Per-prompt cost of each prompt hook with a fresh cached token, and of direnv's own hook
# (`direnv export` in a directory without .envrc) on the same machine, for comparison.
# Numbers only, nothing asserted (docs/shells.md lists measured values).
#
#   scripts/bench-hooks.sh            # N=1000 for the process-free paths, N/5 for the others
#   N=5000 BEDROCK_ENV_BIN=target/debug/bedrock-env scripts/bench-hooks.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
M=$((N / 5))
BIN=${BEDROCK_ENV_BIN:-target/release/bedrock-env}
if [[ ! -x ${BIN} ]]; then
    cargo build --release --quiet
fi
BIN=$(realpath "${BIN}")

tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
mkdir -p "${tmp}/bin" "${tmp}/empty"
ln -s "${BIN}" "${tmp}/bin/bedrock-env"

# A clean, private environment: fake static credentials (minting needs no network).
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SESSION_TOKEN \
    BEDROCK_ENV_PROFILE BEDROCK_ENV_REGION BEDROCK_ENV_DURATION BEDROCK_ENV_THRESHOLD \
    BEDROCK_ENV_CACHE_DIR AWS_BEARER_TOKEN_BEDROCK PROMPT_COMMAND
export HOME="${tmp}" XDG_CACHE_HOME="${tmp}/.cache" XDG_CONFIG_HOME="${tmp}/.config" \
    XDG_DATA_HOME="${tmp}/.local/share" PATH="${tmp}/bin:${PATH}" \
    AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \
    AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
    AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true N M
bedrock-env export >/dev/null # a fresh token in the cache
cd "${tmp}/empty"

echo "binary: ${BIN}"
cores=$(nproc)
kernel=$(uname -sr)
echo "machine: ${cores} cores, ${kernel}"

# shellcheck disable=SC2016 # the scripts below are expanded by the shells that run them
{
    bash -c 'eval "$(bedrock-env hook bash)"; __bedrock_env_hook
        s=${EPOCHREALTIME/./}; for ((i = 0; i < N; i++)); do __bedrock_env_hook; done; e=${EPOCHREALTIME/./}
        echo "bash ${BASH_VERSION%%(*} fast path (fresh token): $(((e - s) / N)) us per prompt (N=${N})"'

    bash -c 'eval "$(bedrock-env hook bash)"; __bedrock_env_hook
        s=${EPOCHREALTIME/./}; for ((i = 0; i < M; i++)); do __BEDROCK_ENV_CHECK_AT=0; __bedrock_env_hook; done; e=${EPOCHREALTIME/./}
        echo "bash slow path (hook-env reads the cache): $(((e - s) / M)) us per prompt (N=${M})"'

    zsh -f -c 'eval "$(bedrock-env hook zsh)"; __bedrock_env_hook
        s=$EPOCHREALTIME; for ((i = 0; i < N; i++)); do __bedrock_env_hook; done; e=$EPOCHREALTIME
        printf "zsh %s fast path (fresh token): %d us per prompt (N=%d)\n" $ZSH_VERSION $(((e - s) * 1e6 / N)) $N'

    zsh -f -c 'eval "$(bedrock-env hook zsh)"; __bedrock_env_hook
        s=$EPOCHREALTIME; for ((i = 0; i < M; i++)); do __BEDROCK_ENV_CHECK_AT=0; __bedrock_env_hook; done; e=$EPOCHREALTIME
        printf "zsh slow path (hook-env reads the cache): %d us per prompt (N=%d)\n" $(((e - s) * 1e6 / M)) $M'

    fish --no-config -c 'bedrock-env hook fish | source; __bedrock_env_hook
        set s (date +%s%N); for i in (seq $M); __bedrock_env_hook; end; set e (date +%s%N)
        echo "fish $version (hook-env at each prompt): "(math --scale=0 "($e - $s) / 1000 / $M")" us per prompt (N=$M)"'

    zsh -f -c 'zmodload zsh/datetime
        s=$EPOCHREALTIME; for ((i = 0; i < M; i++)); do eval "$(direnv export zsh)"; done; e=$EPOCHREALTIME
        printf "direnv %s hook (export zsh, no .envrc): %d us per prompt (N=%d)\n" "$(direnv version)" $(((e - s) * 1e6 / M)) $M'

    zsh -f -c 'eval "$(bedrock-env hook zsh)"; __bedrock_env_hook
        s=$EPOCHREALTIME; for ((i = 0; i < N; i++)); do bedrock_env_prompt >/dev/null; done; e=$EPOCHREALTIME
        printf "zsh bedrock_env_prompt: %d us per call (N=%d)\n" $(((e - s) * 1e6 / N)) $N
        s=$EPOCHREALTIME; for ((i = 0; i < M; i++)); do bedrock-env prompt >/dev/null; done; e=$EPOCHREALTIME
        printf "bedrock-env prompt (a process): %d us per call (N=%d)\n" $(((e - s) * 1e6 / M)) $M'
}
