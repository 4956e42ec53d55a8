#!/usr/bin/env bash
# GET /v1/videos: limit 0..100 (default 20), cursor pagination with after in both
# orders, first_id/last_id/has_more, deleted videos skipped, bad parameters 400.
source "$(dirname "$0")/lib.sh"
sim_start --gen-ms 100

ids=()
for i in 1 2 3 4 5 6 7; do
	ids+=("$(sim_create "list item $i")")
done

# walk ORDER LIMIT: follows after=last_id while has_more, printing ids in order.
walk() {
	local order=$1 limit=$2 after="" code pages=0
	while :; do
		code=$(sim_req GET "/v1/videos?order=$order&limit=$limit${after:+&after=$after}")
		expect_eq "list page" 200 "$code"
		expect_eq "list object" list "$(body_get .object)"
		expect_eq "first_id" "$(body_get '.data[0].id')" "$(body_get .first_id)"
		expect_eq "last_id" "$(body_get '.data[-1].id')" "$(body_get .last_id)"
		[ "$(body_get '.data|length')" -le "$limit" ] || fail "page longer than limit $limit"
		body_get '.data[].id'
		pages=$((pages + 1))
		[ "$pages" -lt 20 ] || fail "pagination does not end"
		[ "$(body_get .has_more)" = true ] || break
		after=$(body_get .last_id)
	done
}

expect_eq "asc walk, limit 2" "${ids[*]}" "$(walk asc 2 | tr '\n' ' ' | sed 's/ $//')"
rev=$(printf '%s\n' "${ids[@]}" | tac | tr '\n' ' ' | sed 's/ $//')
expect_eq "desc walk, limit 3" "$rev" "$(walk desc 3 | tr '\n' ' ' | sed 's/ $//')"
code=$(sim_req GET /v1/videos)
expect_eq "default order is desc" "${ids[6]}" "$(body_get '.data[0].id')"
expect_eq "default page holds all 7" 7 "$(body_get '.data|length')"
expect_eq "has_more on the last page" false "$(body_get .has_more)"

# Exact page boundaries: limit 7 has no more; limit 6 has.
sim_req GET "/v1/videos?limit=7" >/dev/null
expect_eq "limit 7 has_more" false "$(body_get .has_more)"
sim_req GET "/v1/videos?limit=6&order=asc" >/dev/null
expect_eq "limit 6 has_more" true "$(body_get .has_more)"
expect_eq "limit 6 last_id" "${ids[5]}" "$(body_get .last_id)"

# limit=0: an empty page with null ids.
sim_req GET "/v1/videos?limit=0" >/dev/null
expect_eq "limit 0 data" 0 "$(body_get '.data|length')"
expect_eq "limit 0 first_id" null "$(body_get .first_id)"
expect_eq "limit 0 last_id" null "$(body_get .last_id)"

# A deleted video disappears from the list, but still works as a cursor.
sim_req DELETE "/v1/videos/${ids[2]}" >/dev/null
got=$(walk asc 100 | tr '\n' ' ' | sed 's/ $//')
expect_eq "list after delete" "${ids[0]} ${ids[1]} ${ids[3]} ${ids[4]} ${ids[5]} ${ids[6]}" "$got"
sim_req GET "/v1/videos?order=asc&after=${ids[2]}&limit=1" >/dev/null
expect_eq "cursor on a deleted video" "${ids[3]}" "$(body_get '.data[0].id')"

# Bad parameters.
expect_error 400 "$(sim_req GET '/v1/videos?limit=101')" invalid_request_error limit integer_above_max_value
expect_error 400 "$(sim_req GET '/v1/videos?limit=-1')" invalid_request_error limit integer_below_min_value
expect_error 400 "$(sim_req GET '/v1/videos?limit=ten')" invalid_request_error limit invalid_type
expect_error 400 "$(sim_req GET '/v1/videos?order=up')" invalid_request_error order invalid_value
expect_error 400 "$(sim_req GET '/v1/videos?after=video_unknown')" invalid_request_error after invalid_value
echo "PASS sim_list"
