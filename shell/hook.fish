# bedrock-env prompt hook for fish. Install: bedrock-env hook fish | source  (in config.fish)
#
# Before each prompt, keeps AWS_BEARER_TOKEN_BEDROCK valid for the current target by sourcing
# `bedrock-env hook-env fish`, which reads the shared cache and mints only when needed. fish has
# no clock without a process, so this runs the binary at each prompt (the cached fast path).

function __bedrock_env_hook --on-event fish_prompt
    set -l __bedrock_env_status $status
    if not command -q bedrock-env
        # Not on PATH (uninstalled, or a PATH without it): stay quiet, but drop a dead token.
        if set -q __BEDROCK_ENV_EXPIRES; and string match -qr '^[0-9]+$' -- "$__BEDROCK_ENV_EXPIRES"
            set -l __bedrock_env_now (command date +%s 2>/dev/null)
            if string match -qr '^[0-9]+$' -- "$__bedrock_env_now"
                and test (math "$__bedrock_env_now + 10") -ge "$__BEDROCK_ENV_EXPIRES"
                set -e AWS_BEARER_TOKEN_BEDROCK
                set -e AWS_BEARER_TOKEN_BEDROCK_EXPIRATION
                set -e __BEDROCK_ENV_EXPIRES
            end
        end
        return $__bedrock_env_status
    end
    # Passed so that a failure is reported once, not at every prompt.
    set -lx BEDROCK_ENV_LAST_ERROR "$__BEDROCK_ENV_ERROR"
    command bedrock-env hook-env fish | source
    return $__bedrock_env_status
end

# Time left on this shell's token, like `bedrock-env prompt`:
#   bedrock_env_prompt [--format compact|minutes|seconds] [--expired TEXT]
function bedrock_env_prompt
    argparse --name bedrock_env_prompt 'f/format=' 'expired=' -- $argv
    or return 2
    set -l __bedrock_env_format compact
    set -q _flag_format; and set __bedrock_env_format $_flag_format
    set -l __bedrock_env_expired expired
    set -q _flag_expired; and set __bedrock_env_expired $_flag_expired
    if not contains -- $__bedrock_env_format compact minutes seconds
        echo "bedrock_env_prompt: --format must be compact, minutes or seconds" >&2
        return 2
    end
    if test -z "$AWS_BEARER_TOKEN_BEDROCK"; or test -z "$AWS_BEARER_TOKEN_BEDROCK_EXPIRATION"
        return 0
    end
    set -l __bedrock_env_now (command date +%s 2>/dev/null)
    if not string match -qr '^[0-9]+$' -- "$__BEDROCK_ENV_EXPIRES"
        or not string match -qr '^[0-9]+$' -- "$__bedrock_env_now"
        # No hook state (a token exported by other means): ask the binary.
        command -q bedrock-env; or return 0
        command bedrock-env prompt --format $__bedrock_env_format --expired $__bedrock_env_expired
        return
    end
    set -l left (math "$__BEDROCK_ENV_EXPIRES - $__bedrock_env_now")
    if test $left -le 0
        printf '%s\n' $__bedrock_env_expired
    else if test $__bedrock_env_format = seconds
        printf '%s\n' $left
    else if test $__bedrock_env_format = minutes
        printf '%s\n' (math --scale=0 "floor($left / 60)")
    else if test $left -lt 60
        printf '%ss\n' $left
    else if test $left -lt 3600
        printf '%sm\n' (math --scale=0 "floor($left / 60)")
    else if test (math "$left % 3600") -lt 60
        printf '%sh\n' (math --scale=0 "floor($left / 3600)")
    else
        printf '%sh%02dm\n' (math --scale=0 "floor($left / 3600)") (math --scale=0 "floor($left % 3600 / 60)")
    end
end

set -gx BEDROCK_ENV_HOOK fish
