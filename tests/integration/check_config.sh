# shellcheck shell=bash
# check_config.sh — `sorad check-config`: exit codes 0/78/64, FILE:LINE: messages,
# the file it picks without -c, and that the API key's value is never printed.
. "$(dirname "$0")/lib.sh"

SECRET="sk-test-DO-NOT-PRINT-$RANDOM$RANDOM"
unset OPENAI_API_KEY OPENAI_BASE_URL VIDEO_STORAGE_PATH MAX_POLL_TIMEOUT DEFAULT_MODEL \
	DEFAULT_SIZE DEFAULT_SECONDS MAX_FILE_SIZE SORAD_CONF

# run_check EXPECTED_EXIT ARGS...: runs check-config, output in $T/out and $T/err.
run_check() {
	local want=$1 rc=0
	shift
	"$SORAD_BIN" check-config "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		cat "$T/out" "$T/err" >&2
		fail "check-config $* exited $rc, expected $want"
	fi
	if grep -q -- "$SECRET" "$T/out" "$T/err"; then
		fail "check-config $* printed the API key"
	fi
}

expect_in() { # FILE TEXT
	grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "expected '$2' in $(basename "$1")"; }
}

# The shipped configuration is valid, and its summary shows the model table.
run_check 0 -c "$SORAD_SOURCE_DIR/sorad.conf"
expect_in "$T/out" "$SORAD_SOURCE_DIR/sorad.conf: configuration OK"
expect_in "$T/out" "sora-2-pro"
expect_in "$T/out" "1920x1080 \$0.70/s"
expect_in "$T/out" "api key        none"

# A key from a private file is found but never shown; a readable one is warned about.
printf '%s\n' "$SECRET" >"$T/api-key"
chmod 600 "$T/api-key"
printf 'api_key_file = "api-key"\ninbox = "in"\n' >"$T/good.conf"
run_check 0 -c "$T/good.conf"
expect_in "$T/out" "api key        found (api_key_file $T/api-key)"
expect_in "$T/out" "inbox          $T/in"
[ -s "$T/err" ] && fail "unexpected warning for a 0600 key file: $(cat "$T/err")"
chmod 644 "$T/api-key"
run_check 0 -c "$T/good.conf"
expect_in "$T/err" "warning: api_key_file $T/api-key is readable by everyone"

# The environment's key is found and not shown either, even when it is malformed.
OPENAI_API_KEY="$SECRET" run_check 0 -c "$SORAD_SOURCE_DIR/sorad.conf"
expect_in "$T/out" "api key        found (OPENAI_API_KEY)"
OPENAI_API_KEY="$SECRET with spaces" run_check 78 -c "$SORAD_SOURCE_DIR/sorad.conf"
expect_in "$T/err" "OPENAI_API_KEY: contains spaces"

# The protocol: shown in the summary, and an unknown one named with the choices.
run_check 0 -c "$SORAD_SOURCE_DIR/sorad.conf"
expect_in "$T/out" "api_protocol   openai"
printf 'api_protocol = "openrouter"\n' >"$T/or.conf"
run_check 0 -c "$T/or.conf"
expect_in "$T/out" "api_protocol   openrouter"
expect_in "$T/out" "list no (api_protocol)"
expect_in "$T/out" "thumbnail no (api_protocol)"
printf '\napi_protocol = "grpc"\n' >"$T/or.conf"
run_check 78 -c "$T/or.conf"
expect_in "$T/err" "$T/or.conf:2: api_protocol = \"grpc\": must be one of openai, openrouter"

# Errors name FILE:LINE and exit with EX_CONFIG (78), every bad value in one run.
cat >"$T/bad.conf" <<'EOF'
# a comment, which libconfuse 3.3 alone would miscount
max_in_flight = 0

listen = "localhost"
auth_style = "basic"
EOF
run_check 78 -c "$T/bad.conf"
expect_in "$T/err" "$T/bad.conf:2: max_in_flight = 0: must be at least 1"
expect_in "$T/err" "$T/bad.conf:4: listen = \"localhost\": must be HOST:PORT"
expect_in "$T/err" "$T/bad.conf:5: auth_style = \"basic\": must be \"bearer\" or \"api-key\""
[ -s "$T/out" ] && fail "an invalid file printed a summary: $(cat "$T/out")"

printf 'inbox = "in"\nfrobnicate = 1\n' >"$T/unknown.conf"
run_check 78 -c "$T/unknown.conf"
expect_in "$T/err" "$T/unknown.conf:2: no such option 'frobnicate'"

# Unknown keys do not hide the rest: four mistakes, one run, near misses guessed,
# inside sections too; the lines keep their numbers.
cat >"$T/four.conf" <<'EOF'
listne = "127.0.0.1:1"
max_in_flight = 0
extra = {"a",
         "b"}
log_level = "loud"
model "sora-2" {
  secnds = {4, 8}
  size "1280x720" { price = 0.1 }
}
EOF
run_check 78 -c "$T/four.conf"
expect_in "$T/err" "$T/four.conf:1: no such option 'listne' (did you mean 'listen'?)"
expect_in "$T/err" "$T/four.conf:2: max_in_flight = 0: must be at least 1"
expect_in "$T/err" "$T/four.conf:3: no such option 'extra'"
expect_in "$T/err" "$T/four.conf:5: log_level = \"loud\""
expect_in "$T/err" "$T/four.conf:7: no such option 'secnds' (did you mean 'seconds'?)"

printf 'default_size = "1920x1080"\n' >"$T/size.conf"
run_check 78 -c "$T/size.conf"
expect_in "$T/err" "$T/size.conf:1: default_size \"1920x1080\" is not a size of model \"sora-2\""

# A key file that is missing is a configuration error naming the file and line.
printf '\napi_key_file = "nowhere"\n' >"$T/nokey.conf"
run_check 78 -c "$T/nokey.conf"
expect_in "$T/err" "$T/nokey.conf:2: api_key_file $T/nowhere: No such file or directory"

run_check 78 -c "$T/does-not-exist.conf"
expect_in "$T/err" "$T/does-not-exist.conf: cannot open"

# A malformed environment override names the variable.
MAX_POLL_TIMEOUT=soon run_check 78 -c "$SORAD_SOURCE_DIR/sorad.conf"
expect_in "$T/err" "MAX_POLL_TIMEOUT: \"soon\" is not a whole number"

# Usage errors exit with EX_USAGE (64); --help exits 0.
run_check 64 --bogus
run_check 64 -c
run_check 64 -c "$T/good.conf" extra
run_check 0 --help
expect_in "$T/out" "usage: sorad check-config"

# Without -c: $SORAD_CONF, else ./sorad.conf, else the built-in defaults.
mkdir "$T/cwd"
(cd "$T/cwd" && run_check 0)
expect_in "$T/out" "built-in defaults"
cp "$T/bad.conf" "$T/cwd/sorad.conf"
(cd "$T/cwd" && run_check 78)
expect_in "$T/err" "sorad.conf:2: max_in_flight"
(cd "$T/cwd" && SORAD_CONF="$T/good.conf" run_check 0)
expect_in "$T/out" "$T/good.conf: configuration OK"

echo "check_config: ok"
