# bash completion for twshim.  The option lists come from the installed
# command's own --help, so they cannot drift from it.
_twshim() {
	local cur=${COMP_WORDS[COMP_CWORD]} sub=${COMP_WORDS[1]:-} i words
	if ((COMP_CWORD == 1)); then
		words=$("${COMP_WORDS[0]}" --help 2>/dev/null | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
		mapfile -t COMPREPLY < <(compgen -W "$words --help --version" -- "$cur")
		return
	fi
	# after "--", twshim run takes a command line
	for ((i = 2; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
			return
		fi
	done
	if [[ $cur == -* ]]; then
		words=$("${COMP_WORDS[0]}" "$sub" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*=?' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		[[ ${COMPREPLY[0]:-} == *= ]] && compopt -o nospace 2>/dev/null
		return
	fi
	case $sub in
	check | doctor | run) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	esac
}
complete -F _twshim twshim
