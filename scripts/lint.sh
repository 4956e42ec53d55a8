#!/usr/bin/env bash
# Static analysis of the project's own code (src/, sim/ and the headers they include):
# cppcheck, then clang-tidy with the checked-in .clang-tidy. Both read the compile
# commands of a CMake build dir (configured here when missing). Then the habits: every
# C file and header in git is as clang-format (.clang-format) writes it, and every shell
# script is free of shellcheck warnings. Exits non-zero on any finding. A finding is
# fixed, or silenced on its line with a reason:
#   /* NOLINT(check-name): why */            clang-tidy
#   /* cppcheck-suppress id ; why */         cppcheck (the line before, or the same line)
#   # shellcheck disable=SCnnnn # why        shellcheck (the line before the command)
# A formatting difference is fixed with `clang-format -i FILE` (see HACKING.md).
#
#   scripts/lint.sh                 everything, build dir $BUILD_DIR (default build-lint)
#   scripts/lint.sh FILE...         only these files: C files (.c, .h) get the C checks,
#                                   shell scripts (.sh, .ci/run) shellcheck
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${BUILD_DIR:-build-lint}
if [ ! -f "$build/compile_commands.json" ]; then
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi

tmp=$(mktemp -d /tmp/sorad-lint.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Only our translation units: not tests, fuzz harnesses or CMake's probes.
jq '[.[] | select(.file | test("/(src|sim)/[^/]*\\.c$"))]' \
	"$build/compile_commands.json" >"$tmp/compile_commands.json"
all=1
cargs=()
sargs=()
if [ "$#" -gt 0 ]; then
	all=0
	for a in "$@"; do
		case $a in
		*.c | *.h) cargs+=("$a") ;;
		*.sh | *run) sargs+=("$a") ;;
		*) echo "lint: $a is neither C (.c, .h) nor a shell script (.sh): skipped" >&2 ;;
		esac
	done
	files=()
	# the named translation units of src/ and sim/, as in the whole run (headers are
	# checked through them; tests and fuzz harnesses get clang-format only)
	for f in "${cargs[@]}"; do
		f=$(realpath -- "$f")
		[[ $f =~ /(src|sim)/[^/]*\.c$ ]] && files+=("$f")
	done
else
	mapfile -t files < <(jq -r '.[].file' "$tmp/compile_commands.json")
fi
jobs=$(nproc)
status=0

filters=()
for f in "${files[@]}"; do filters+=("--file-filter=$f"); done
if [ "$all" = 0 ] && [ "${#files[@]}" -eq 0 ]; then
	: # no C source named: no cppcheck or clang-tidy
else
	echo "lint: cppcheck on ${#files[@]} files" >&2
	if ! cppcheck --project="$tmp/compile_commands.json" --std=c11 --quiet -j"$jobs" \
		--enable=warning,style,performance,portability --inline-suppr \
		--suppress=missingIncludeSystem --error-exitcode=1 \
		--template='{file}:{line}:{column}: cppcheck {severity}: {message} [{id}]' \
		"${filters[@]}" 2>"$tmp/cppcheck.out"; then
		status=1
	fi
	cat "$tmp/cppcheck.out" >&2
	if [ -s "$tmp/cppcheck.out" ]; then
		status=1
	fi

	echo "lint: clang-tidy on ${#files[@]} files" >&2
	# Every warning is an error; clang-tidy's "N warnings generated" chatter is dropped.
	if ! printf '%s\n' "${files[@]}" |
		xargs -P"$jobs" -n1 clang-tidy -p "$tmp" --quiet --warnings-as-errors='*' \
			>"$tmp/tidy.out" 2>"$tmp/tidy.err"; then
		status=1
	fi
	grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Error while processing' \
		"$tmp/tidy.err" >&2 || true
	cat "$tmp/tidy.out"
fi

# Formatting: the C files named, or every C file and header git knows.
if [ "$all" = 0 ]; then
	cfiles=("${cargs[@]}")
else
	mapfile -t cfiles < <(git ls-files -- '*.c' '*.h')
fi
echo "lint: clang-format on ${#cfiles[@]} files" >&2
if [ "${#cfiles[@]}" -gt 0 ] && ! clang-format --dry-run -Werror "${cfiles[@]}" 2>"$tmp/format.out"; then
	status=1
	grep -E '^[^ ].*: error:' "$tmp/format.out" | sed 's/: error: code should be clang-formatted.*/: not as clang-format writes it (clang-format -i)/' | sort -u >&2
fi

# Every shell script git knows (sourced libraries carry a `shell=bash` directive), or
# the ones named (shellcheck -x follows what they source, so a library's change shows
# in the scripts that use it: name those too, or run the whole lint).
if [ "$all" = 0 ]; then
	scripts=("${sargs[@]}")
else
	mapfile -t scripts < <(git ls-files -- '*.sh' .ci/run)
fi
if [ "${#scripts[@]}" -gt 0 ]; then
	echo "lint: shellcheck on ${#scripts[@]} scripts" >&2
	if ! shellcheck -x -P SCRIPTDIR -S warning -f gcc "${scripts[@]}" >"$tmp/shellcheck.out" 2>&1; then
		status=1
	fi
	cat "$tmp/shellcheck.out" >&2
fi

if [ "$status" -ne 0 ]; then
	echo "lint: findings above (fix them, or NOLINT / cppcheck-suppress / shellcheck disable with a reason)" >&2
else
	echo "lint: cppcheck, clang-tidy, clang-format and shellcheck clean" >&2
fi
exit "$status"
