# bedrock-env prompt hook for zsh. Install: eval "$(bedrock-env hook zsh)" in ~/.zshrc
#
# Before each prompt, keeps AWS_BEARER_TOKEN_BEDROCK valid for the current target. While the
# token is fresh and the target is unchanged, the hook decides from shell variables alone
# (EPOCHSECONDS from zsh/datetime) and starts no process. Otherwise it evals
# `bedrock-env hook-env zsh`, which reads the shared cache and mints only when needed.

\builtin zmodload zsh/datetime 2>/dev/null

__bedrock_env_hook() {
    \builtin local __bedrock_env_status=$?
    \builtin emulate -L zsh
    # The target, as the variables that choose it: when any of them changes, ask again.
    \builtin local __bedrock_env_fingerprint="${AWS_PROFILE-}|${AWS_DEFAULT_PROFILE-}|${AWS_REGION-}|${AWS_DEFAULT_REGION-}|${AWS_ACCESS_KEY_ID-}|${AWS_CONFIG_FILE-}|${BEDROCK_ENV_PROFILE-}|${BEDROCK_ENV_REGION-}|${BEDROCK_ENV_DURATION-}|${BEDROCK_ENV_THRESHOLD-}|${BEDROCK_ENV_CACHE_DIR-}"
    # The fast path: same target, before the time hook-env asked to be called again.
    if [[ -n ${EPOCHSECONDS-} && $__bedrock_env_fingerprint == "${__BEDROCK_ENV_TARGET-}" ]] &&
        [[ -n ${AWS_BEARER_TOKEN_BEDROCK-}${__BEDROCK_ENV_ERROR-} && ${__BEDROCK_ENV_CHECK_AT-} == <-> ]] &&
        ((EPOCHSECONDS < __BEDROCK_ENV_CHECK_AT)); then
        \builtin return $__bedrock_env_status
    fi
    # Not on PATH (uninstalled, or a PATH without it): stay quiet, but drop a dead token.
    # A stale hash entry (the binary was removed) is dropped and PATH searched again.
    if [[ ! -x ${commands[bedrock-env]-} ]]; then
        \builtin unhash bedrock-env 2>/dev/null
        if [[ ! -x ${commands[bedrock-env]-} ]]; then
            if [[ -n ${EPOCHSECONDS-} && ${__BEDROCK_ENV_EXPIRES-} == <-> ]] &&
                ((EPOCHSECONDS + 10 >= __BEDROCK_ENV_EXPIRES)); then
                \builtin unset AWS_BEARER_TOKEN_BEDROCK AWS_BEARER_TOKEN_BEDROCK_EXPIRATION __BEDROCK_ENV_EXPIRES
            fi
            \builtin return $__bedrock_env_status
        fi
    fi
    # If hook-env prints nothing (interrupted), the next prompt asks again.
    typeset -g __BEDROCK_ENV_CHECK_AT=0
    \builtin eval "$(BEDROCK_ENV_LAST_ERROR="${__BEDROCK_ENV_ERROR-}" \command bedrock-env hook-env zsh)"
    typeset -g __BEDROCK_ENV_TARGET=$__bedrock_env_fingerprint
    \builtin return $__bedrock_env_status
}

# Time left on this shell's token, like `bedrock-env prompt`, without a process:
#   bedrock_env_prompt [--format compact|minutes|seconds] [--expired TEXT]
bedrock_env_prompt() {
    \builtin emulate -L zsh
    \builtin local format=compact expired=expired
    while (($#)); do
        case $1 in
        (-f | --format)
            (($# >= 2)) || \builtin return 2
            format=$2
            \builtin shift 2
            ;;
        (--format=*) format=${1#*=} && \builtin shift ;;
        (--expired)
            (($# >= 2)) || \builtin return 2
            expired=$2
            \builtin shift 2
            ;;
        (--expired=*) expired=${1#*=} && \builtin shift ;;
        (*)
            \builtin print -ru2 -- "bedrock_env_prompt: unknown argument $1"
            \builtin return 2
            ;;
        esac
    done
    case $format in
    (compact | minutes | seconds) ;;
    (*)
        \builtin print -ru2 -- "bedrock_env_prompt: --format must be compact, minutes or seconds"
        \builtin return 2
        ;;
    esac
    [[ -n ${AWS_BEARER_TOKEN_BEDROCK-} && -n ${AWS_BEARER_TOKEN_BEDROCK_EXPIRATION-} ]] || \builtin return 0
    if [[ -z ${EPOCHSECONDS-} || ${__BEDROCK_ENV_EXPIRES-} != <-> ]]; then
        # No hook state (a token exported by other means): ask the binary.
        [[ -x ${commands[bedrock-env]-} ]] || \builtin return 0
        \command bedrock-env prompt --format $format --expired $expired
        \builtin return
    fi
    \builtin local -i left=$((__BEDROCK_ENV_EXPIRES - EPOCHSECONDS))
    if ((left <= 0)); then
        \builtin print -r -- $expired
    elif [[ $format == seconds ]]; then
        \builtin print -r -- $left
    elif [[ $format == minutes ]]; then
        \builtin print -r -- $((left / 60))
    elif ((left < 60)); then
        \builtin print -r -- ${left}s
    elif ((left < 3600)); then
        \builtin print -r -- $((left / 60))m
    elif ((left % 3600 < 60)); then
        \builtin print -r -- $((left / 3600))h
    else
        \builtin printf '%dh%02dm\n' $((left / 3600)) $((left % 3600 / 60))
    fi
}

# Prepend, so the token is in place before other hooks draw the prompt. Sourcing this file
# twice installs the hook once.
\builtin typeset -ag precmd_functions
if ((!${precmd_functions[(I)__bedrock_env_hook]})); then
    precmd_functions=(__bedrock_env_hook $precmd_functions)
fi
\builtin export BEDROCK_ENV_HOOK=zsh
