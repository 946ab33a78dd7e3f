# bedrock-env prompt hook for bash. Install: eval "$(bedrock-env hook bash)" in ~/.bashrc
#
# Before each prompt, keeps AWS_BEARER_TOKEN_BEDROCK valid for the current target. While the
# token is fresh and the target is unchanged (bash >= 4.2), the hook decides from shell
# variables alone and starts no process. Otherwise it evals `bedrock-env hook-env bash`, which
# reads the shared cache and mints only when needed.

# Unix seconds without a process: EPOCHSECONDS (bash 5), printf %(%s)T (bash 4.2); else empty.
__bedrock_env_now() {
    __bedrock_env_time=${EPOCHSECONDS-}
    if [[ -z ${__bedrock_env_time} ]] && ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2))); then
        \builtin printf -v __bedrock_env_time '%(%s)T' -1
    fi
}

__bedrock_env_hook() {
    \builtin local __bedrock_env_status=$? __bedrock_env_time=${EPOCHSECONDS-}
    # The target, as the variables that choose it: when any of them changes, ask again.
    \builtin local __bedrock_env_fingerprint="${AWS_PROFILE-}|${AWS_DEFAULT_PROFILE-}|${AWS_REGION-}|${AWS_DEFAULT_REGION-}|${AWS_ACCESS_KEY_ID-}|${AWS_CONFIG_FILE-}|${BEDROCK_ENV_PROFILE-}|${BEDROCK_ENV_REGION-}|${BEDROCK_ENV_DURATION-}|${BEDROCK_ENV_THRESHOLD-}|${BEDROCK_ENV_CACHE_DIR-}"
    [[ -n ${__bedrock_env_time} ]] || __bedrock_env_now
    # The fast path: same target, before the time hook-env asked to be called again.
    if [[ -n ${__bedrock_env_time} && ${__bedrock_env_fingerprint} == "${__BEDROCK_ENV_TARGET-}" ]] &&
        [[ -n ${AWS_BEARER_TOKEN_BEDROCK-}${__BEDROCK_ENV_ERROR-} ]] &&
        [[ -n ${__BEDROCK_ENV_CHECK_AT-} && ${__BEDROCK_ENV_CHECK_AT} != *[!0-9]* ]] &&
        ((__bedrock_env_time < __BEDROCK_ENV_CHECK_AT)); then
        \builtin return "${__bedrock_env_status}"
    fi
    # `hash` searches PATH again (a stale entry is replaced); `type -P` if hashing is off.
    if ! \builtin hash bedrock-env 2>/dev/null && ! \builtin type -P bedrock-env >/dev/null 2>&1; then
        # Not on PATH (uninstalled, or a PATH without it): stay quiet, but drop a dead token.
        if [[ -n ${__bedrock_env_time} && -n ${__BEDROCK_ENV_EXPIRES-} && ${__BEDROCK_ENV_EXPIRES} != *[!0-9]* ]] &&
            ((__bedrock_env_time + 10 >= __BEDROCK_ENV_EXPIRES)); then
            \builtin unset AWS_BEARER_TOKEN_BEDROCK AWS_BEARER_TOKEN_BEDROCK_EXPIRATION __BEDROCK_ENV_EXPIRES
        fi
        \builtin return "${__bedrock_env_status}"
    fi
    # If hook-env prints nothing (interrupted), the next prompt asks again.
    __BEDROCK_ENV_CHECK_AT=0
    # hook-env always exits 0 and prints only assignments; its status carries nothing.
    # shellcheck disable=SC2312
    \builtin eval "$(BEDROCK_ENV_LAST_ERROR="${__BEDROCK_ENV_ERROR-}" \command bedrock-env hook-env bash)"
    __BEDROCK_ENV_TARGET=${__bedrock_env_fingerprint}
    \builtin return "${__bedrock_env_status}"
}

# Time left on this shell's token, like `bedrock-env prompt`, without a process:
#   bedrock_env_prompt [--format compact|minutes|seconds] [--expired TEXT]
bedrock_env_prompt() {
    \builtin local __bedrock_env_format=compact __bedrock_env_expired=expired __bedrock_env_time
    while [[ $# -gt 0 ]]; do
        case $1 in
        -f | --format)
            __bedrock_env_format=${2-}
            \builtin shift 2 || \builtin return 2
            ;;
        --format=*) __bedrock_env_format=${1#*=} && \builtin shift ;;
        --expired)
            __bedrock_env_expired=${2-}
            \builtin shift 2 || \builtin return 2
            ;;
        --expired=*) __bedrock_env_expired=${1#*=} && \builtin shift ;;
        *)
            \builtin printf 'bedrock_env_prompt: unknown argument %s\n' "$1" >&2
            \builtin return 2
            ;;
        esac
    done
    case ${__bedrock_env_format} in
    compact | minutes | seconds) ;;
    *)
        \builtin printf 'bedrock_env_prompt: --format must be compact, minutes or seconds\n' >&2
        \builtin return 2
        ;;
    esac
    [[ -n ${AWS_BEARER_TOKEN_BEDROCK-} && -n ${AWS_BEARER_TOKEN_BEDROCK_EXPIRATION-} ]] || \builtin return 0
    __bedrock_env_now
    if [[ -z ${__bedrock_env_time} || -z ${__BEDROCK_ENV_EXPIRES-} || ${__BEDROCK_ENV_EXPIRES} == *[!0-9]* ]]; then
        # No hook state (a token exported by other means): ask the binary.
        \builtin hash bedrock-env 2>/dev/null || \builtin type -P bedrock-env >/dev/null 2>&1 || \builtin return 0
        \command bedrock-env prompt --format "${__bedrock_env_format}" --expired "${__bedrock_env_expired}"
        \builtin return
    fi
    \builtin local __bedrock_env_left=$((__BEDROCK_ENV_EXPIRES - __bedrock_env_time))
    if ((__bedrock_env_left <= 0)); then
        \builtin printf '%s\n' "${__bedrock_env_expired}"
    elif [[ ${__bedrock_env_format} == seconds ]]; then
        \builtin printf '%s\n' "${__bedrock_env_left}"
    elif [[ ${__bedrock_env_format} == minutes ]]; then
        \builtin printf '%s\n' "$((__bedrock_env_left / 60))"
    elif ((__bedrock_env_left < 60)); then
        \builtin printf '%ss\n' "${__bedrock_env_left}"
    elif ((__bedrock_env_left < 3600)); then
        \builtin printf '%sm\n' "$((__bedrock_env_left / 60))"
    elif ((__bedrock_env_left % 3600 < 60)); then
        \builtin printf '%sh\n' "$((__bedrock_env_left / 3600))"
    else
        \builtin printf '%sh%02dm\n' "$((__bedrock_env_left / 3600))" "$((__bedrock_env_left % 3600 / 60))"
    fi
}

# Prepend, so the token is in place before other hooks draw the prompt. PROMPT_COMMAND may be
# a string or, since bash 5.1, an array. Sourcing this file twice installs the hook once.
if [[ ${PROMPT_COMMAND[*]-} != *__bedrock_env_hook* ]]; then
    if ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))) &&
        [[ -n ${PROMPT_COMMAND+set} && ${PROMPT_COMMAND@a} == *a* ]]; then
        PROMPT_COMMAND=(__bedrock_env_hook "${PROMPT_COMMAND[@]}")
    else
        # A string here: the array case is handled above.
        # shellcheck disable=SC2128,SC2178
        PROMPT_COMMAND="__bedrock_env_hook${PROMPT_COMMAND:+;${PROMPT_COMMAND}}"
    fi
fi
export BEDROCK_ENV_HOOK=bash
