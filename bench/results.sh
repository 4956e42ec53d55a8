# shellcheck shell=bash
# bench/results.sh — writing one benchmark's figures into bench/RESULTS.md (sourced,
# not run): each benchmark owns a section between <!-- NAME:begin --> and
# <!-- NAME:end --> markers, replaced whole on every run. Uses $RESULTS.

# results_section NAME TEXT: replaces the section between <!-- NAME:begin --> and
# <!-- NAME:end --> in bench/RESULTS.md with TEXT (appends it the first time). TEXT
# should not contain the markers; they are added here.
results_section() {
	local name=$1 text=$2
	local section
	section=$(printf '<!-- %s:begin -->\n%s\n<!-- %s:end -->' "$name" "$text" "$name")
	if [ -f "$RESULTS" ] && grep -q "<!-- $name:begin -->" "$RESULTS"; then
		awk -v s="$section" -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" '
			$0 == b { print s; skip = 1; next }
			$0 == e { skip = 0; next }
			!skip { print }' "$RESULTS" >"$RESULTS.tmp.$$"
		mv "$RESULTS.tmp.$$" "$RESULTS"
	else
		[ -f "$RESULTS" ] || printf '# Benchmark results\n' >"$RESULTS"
		printf '\n%s\n' "$section" >>"$RESULTS"
	fi
	echo "recorded in $RESULTS (section $name)"
}
