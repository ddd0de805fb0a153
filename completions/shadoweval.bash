# bash completion for shadoweval and shadowsim.
# Commands and flags are read from the programs' own --help at completion
# time, so this file never drifts from the binaries. Eval configs complete as
# *.json files, run folders as directories (those holding a results.jsonl first).

_shadoweval_flags()
{
	"$1" ${2:+"$2"} --help 2>&1 | grep -oE -- '(^|[ ,\[])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+' | sort -u
}

_shadoweval_run_dirs()
{
	local d
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -d -- "$1"))
	for d in runs/*/; do
		[ -f "${d}results.jsonl" ] && [[ ${d%/} == "$1"* ]] && COMPREPLY+=("${d%/}")
	done
}

_shadoweval()
{
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" --help 2>&1 | awk '/^commands:/{c=1;next} c&&!NF{exit} c{print $1}') --help --version" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	case $prev in
	-o | --out | --output | --cache-dir | --baseline)
		_shadoweval_run_dirs "$cur"
		return
		;;
	--junit | --markdown | --routing)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--cache)
		COMPREPLY=($(compgen -W "off use refresh replay" -- "$cur"))
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_shadoweval_flags "${COMP_WORDS[0]}" "$cmd")" -- "$cur"))
		return
	fi
	case $cmd in
	run | validate | route | init)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
		;;
	*)
		_shadoweval_run_dirs "$cur"
		;;
	esac
}

_shadowsim()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	case $prev in
	--profiles | --eval)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
		return
		;;
	esac
	COMPREPLY=($(compgen -W "$(_shadoweval_flags "${COMP_WORDS[0]}")" -- "$cur"))
}

complete -F _shadoweval shadoweval
complete -F _shadowsim shadowsim
