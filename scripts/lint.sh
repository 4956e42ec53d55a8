#!/usr/bin/env bash
# Static analysis of the project's own code (src/, sim/ and the headers they include):
# cppcheck, then clang-tidy with the checked-in .clang-tidy. Both read the compile
# commands of a CMake build dir (configured here when missing). Exits non-zero on any
# finding. A finding is fixed, or silenced on its line with a reason:
#   /* NOLINT(check-name): why */            clang-tidy
#   /* cppcheck-suppress id ; why */         cppcheck (the line before, or the same line)
#
#   scripts/lint.sh                 both tools, build dir $BUILD_DIR (default build-lint)
#   scripts/lint.sh FILE.c...       only these files
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
if [ "$#" -gt 0 ]; then
	mapfile -t files < <(realpath -- "$@")
else
	mapfile -t files < <(jq -r '.[].file' "$tmp/compile_commands.json")
fi
jobs=$(nproc)
status=0

echo "lint: cppcheck on ${#files[@]} files" >&2
if ! cppcheck --project="$tmp/compile_commands.json" --std=c11 --quiet -j"$jobs" \
	--enable=warning,style,performance,portability --inline-suppr \
	--suppress=missingIncludeSystem --error-exitcode=1 \
	--template='{file}:{line}:{column}: cppcheck {severity}: {message} [{id}]' \
	$(printf -- '--file-filter=%s ' "${files[@]}") 2>"$tmp/cppcheck.out"; then
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

if [ "$status" -ne 0 ]; then
	echo "lint: findings above (fix them, or NOLINT / cppcheck-suppress with a reason)" >&2
else
	echo "lint: cppcheck and clang-tidy clean" >&2
fi
exit "$status"
