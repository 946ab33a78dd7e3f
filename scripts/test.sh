#!/usr/bin/env bash
# The one test command (README.md, .ci/run): installs what the tests need, then lints and tests.
set -euo pipefail
cd "$(dirname "$0")/.."

BEDROCK_ENV_TEST_VENV="$(scripts/install-test-deps.sh | tail -n 1)"
export BEDROCK_ENV_TEST_VENV

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
