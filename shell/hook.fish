# placeholder: written by the shell integration work
