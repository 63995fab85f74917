#!/usr/bin/env bash
# tool_docs: the man pages render without a warning, libtwshim(7) and the
# README's variable table list exactly the variables of the table the
# parser reads (lib/core/vars.c, `twshim check --list-variables`) with the
# table's defaults (`--list-defaults`), and twshim(1) documents every
# option each subcommand's --help shows.
#
# TW_DOCS_README / TW_DOCS_MAN7 point it at other copies (to see it fail).

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need groff man

MAN1=$TW_SRC/doc/twshim.1
MAN7=${TW_DOCS_MAN7:-$TW_SRC/doc/libtwshim.7}
README=${TW_DOCS_README:-$TW_SRC/README.md}

for page in "$MAN1" "$MAN7"; do
	[[ -f $page ]] || fail "$page missing"
	warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	assert_eq "$(basename "$page"): groff -ww warnings" "$warn" ""
	warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	assert_eq "$(basename "$page"): man -l warnings" "$warn" ""
done

code=$("$TW_TOOL" check --list-variables | sort)
assert_ge "variables in the parser" "$(wc -l <<<"$code")" 11

# libtwshim(7): the .B TWSHIM_* tags of the ENVIRONMENT section's .TP entries.
man7=$(awk '/^\.SH /{env = ($2 == "ENVIRONMENT")} env && prev ~ /^\.TP/ && /^\.B TWSHIM_/ {print $2} {prev = $0}' "$MAN7" | sort)
assert_eq "libtwshim.7 ENVIRONMENT = parser variables" "$man7" "$code"

# libtwshim(7) defaults: in each variable's entry, one line "Default: X ..."
# or "Default:" with X on the next (macro) line; X is its first word.
defaults=$("$TW_TOOL" check --list-defaults | sort)
assert_eq "one default per variable in the table" "$(wc -l <<<"$defaults")" "$(wc -l <<<"$code")"
man7d=$(awk '
	function emit(s) { gsub(/\\f[BIRP]/, "", s); sub(/[ ,.;(].*$/, "", s); print var "\t" s }
	/^\.SH / { env = ($2 == "ENVIRONMENT"); var = "" }
	env && prev ~ /^\.TP/ && /^\.B TWSHIM_/ { var = $2 }
	env && var && next_line { line = $0; sub(/^\.[A-Z]+ /, "", line); emit(line); next_line = 0 }
	env && var && /^Default:/ { rest = $0; sub(/^Default: */, "", rest); if (rest == "") next_line = 1; else emit(rest) }
	{ prev = $0 }' "$MAN7" | sort)
assert_eq "libtwshim.7 ENVIRONMENT defaults = table defaults" "$man7d" "$defaults"

# README: the variable table's first column, and its default column.
if [[ -f $README ]]; then
	# shellcheck disable=SC2016 # backquotes are Markdown here
	readme=$(grep -oE '^\| *`TWSHIM_[A-Z_]+`' "$README" | grep -oE 'TWSHIM_[A-Z_]+' | sort -u)
	assert_eq "README.md variable table = parser variables" "$readme" "$code"
	readme_d=$(awk -F'|' '/^\| *`TWSHIM_[A-Z_]+`/ {
		n = $2; d = $4; gsub(/[` ]/, "", n); gsub(/`/, "", d); gsub(/^ +| +$/, "", d)
		print n "\t" d }' "$README" | sort)
	assert_eq "README.md variable table defaults = table defaults" "$readme_d" "$defaults"
else
	tw__fail "README.md missing: its variable table must list $(tr '\n' ' ' <<<"$code")"
fi

# twshim(1) documents every long option of every subcommand's --help.
page=$(sed 's/\\-/-/g' "$MAN1")
for sub in run stat check doctor reap; do
	for opt in $("$TW_TOOL" "$sub" --help | grep -oE '(^| )--[a-z][a-z-]*' | tr -d ' ' | sort -u); do
		[[ $opt == --help ]] && continue
		if grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" <<<"$page"; then
			tw__pass "twshim.1 documents $sub $opt"
		else
			tw__fail "twshim.1 does not document $sub $opt"
		fi
	done
	assert_match "twshim.1 has a section for $sub" "$page" "\.SS twshim $sub"
done
assert_match "twshim.1 EXIT STATUS section" "$page" "\.SH EXIT STATUS"
assert_match "twshim.1 EXAMPLES section" "$page" "\.SH EXAMPLES"
assert_match "twshim.1 documents TWSHIM_LIBRARY" "$page" "\.B TWSHIM_LIBRARY"
for sec in "CLOSE PATHS" "STATIC AND GO PROGRAMS" "RISKS"; do
	assert_match "libtwshim.7 section $sec" "$(cat "$MAN7")" "\.SH $sec"
done

tw_done
