# Powerlevel10k segment: time left on the shell's Bedrock key, e.g. "bedrock 42m".
# Needs the zsh hook (eval "$(bedrock-env hook zsh)") for `bedrock_env_prompt`, which runs no
# program. Source this after ~/.p10k.zsh and add `bedrock` to
# POWERLEVEL9K_RIGHT_PROMPT_ELEMENTS (or the left elements).

typeset -g POWERLEVEL9K_BEDROCK_FOREGROUND=178

function prompt_bedrock() {
    (( $+functions[bedrock_env_prompt] )) || return
    local left
    left=$(bedrock_env_prompt --expired expired) || return
    [[ -n $left ]] || return
    # Red in the last 15 minutes (the default refresh threshold).
    local -i seconds=$(bedrock_env_prompt --format seconds --expired 0)
    if (( seconds < 900 )); then
        p10k segment -f 160 -t "bedrock $left"
    else
        p10k segment -t "bedrock $left"
    fi
}
