# shellcheck shell=bash
# bedrock-env for direnv. Install: bedrock-env direnv > ~/.config/direnv/lib/bedrock.sh
#
# Then, in an .envrc:
#   use bedrock [--profile NAME] [--region REGION] [--duration D] [--threshold D]
#
# Exports BEDROCK_ENV_PROFILE/REGION/DURATION/THRESHOLD for the given flags (so the prompt hook
# keeps the same target in this directory), then AWS_BEARER_TOKEN_BEDROCK and its expiry from
# the shared cache, and watches the cache record: a re-mint anywhere reloads the directory.
# stdout belongs to direnv; messages go to stderr through log_status/log_error.

use_bedrock() {
    local __bedrock_env_code
    while [[ $# -gt 0 ]]; do
        case $1 in
        --profile | --region | --duration | --threshold)
            if [[ $# -lt 2 ]]; then
                log_error "use bedrock: $1 needs a value"
                return 1
            fi
            __bedrock_env_direnv_set "$1" "$2" || return 1
            shift 2
            ;;
        --profile=* | --region=* | --duration=* | --threshold=*)
            __bedrock_env_direnv_set "${1%%=*}" "${1#*=}" || return 1
            shift
            ;;
        *)
            log_error "use bedrock: unknown option $1 (expected --profile, --region, --duration or --threshold)"
            return 1
            ;;
        esac
    done
    # Without the binary there is nothing to do; the rest of the .envrc still loads.
    has bedrock-env || return 0
    local __bedrock_env_record __bedrock_env_ok=1
    __bedrock_env_code=$(bedrock-env export --format bash) || __bedrock_env_ok=0
    # Watched after the export wrote it (direnv notes the time now), whether it worked or not:
    # a token minted later, here or anywhere, reloads the directory.
    if __bedrock_env_record=$(bedrock-env cache-path 2>/dev/null) && [[ -n ${__bedrock_env_record} ]]; then
        watch_file "${__bedrock_env_record}"
    fi
    if [[ ${__bedrock_env_ok} == 0 ]]; then
        log_error "use bedrock: no token (see the message above)"
        return 0
    fi
    eval "${__bedrock_env_code}"
}

__bedrock_env_direnv_set() {
    if [[ -z $2 ]]; then
        log_error "use bedrock: $1 needs a value"
        return 1
    fi
    case $1 in
    --profile) export BEDROCK_ENV_PROFILE="$2" ;;
    --region) export BEDROCK_ENV_REGION="$2" ;;
    --duration) export BEDROCK_ENV_DURATION="$2" ;;
    --threshold) export BEDROCK_ENV_THRESHOLD="$2" ;;
    *) return 1 ;;
    esac
}
