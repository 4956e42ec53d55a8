# shellcheck shell=bash
# httpd_lib.sh — helpers for the status endpoint's tests (sourced after lib.sh and
# daemon_lib.sh, not run by ctest on its own).

# httpd_start [CONF LINES...]: starts sorad with the status endpoint on a free port
# (listen = "127.0.0.1:0"; the bound port is read from the log) and sets H, the base
# URL, e.g. http://127.0.0.1:40123.
httpd_start() {
	sorad_conf 'listen = "127.0.0.1:0"' "$@"
	sorad_start
	httpd_url
}

# httpd_url: sets H from the last "status: listening on" line of the log.
httpd_url() {
	local line
	line=$(grep -o 'status: listening on http://[0-9.:]*/' "$T/sorad.out" | tail -1)
	[ -n "$line" ] || fail "sorad did not log its status address (see $T/sorad.out)"
	H=${line#status: listening on }
	H=${H%/}
}

# hreq METHOD PATH [curl args...]: one request to the status endpoint, the path sent as
# is (no normalization of ../). Prints the HTTP status; the body lands in $T/body (or
# the file of a "-o FILE" among the arguments) and the headers in $T/headers.
hreq() {
	local method=$1 path=$2 extra=(--path-as-is)
	shift 2
	[ "$method" = HEAD ] && extra+=(-I)
	http_req "$method" "$H$path" "${extra[@]}" "$@"
}

# hget PATH [curl args...]: hreq GET.
hget() {
	hreq GET "$@"
}

# expect_json_error STATUS ACTUAL TYPE: the last answer is the seed's error object.
expect_json_error() {
	expect_eq "HTTP status" "$1" "$2"
	expect_eq "error.type" "$3" "$(body_get .error.type)"
	[ -n "$(body_get .error.message)" ] || fail "error.message is empty"
	# The OpenAI error object has all four keys (param and code may be null).
	expect_eq "error keys" '["code","message","param","type"]' "$(body_get '.error | keys' | tr -d ' \n')"
	expect_eq "content-type" application/json "$(header_get content-type)"
}
