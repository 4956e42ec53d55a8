#!/usr/bin/env bash
# The status list is in created_at order (as the API's list is): a remix claimed
# early but created at the service only when its source is done, and a service whose
# clock is an hour behind, do not break it. created_at is the job's creation in sorad
# (its claim, this machine's clock); the service's own time is timings.created_at.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 4000 --api-key "$SORAD_KEY" --seed 11 --clock-offset-s -3600
httpd_start

known() { curl -fsS -o /dev/null "$H/api/v1/videos/$1"; }
drop src.txt 'A lighthouse on a cliff at dusk.'
wait_for 20 "src to be claimed" known src
# The remix is claimed now, but created only after src completes...
drop remix.txt $'---\nremix_of: src\n---\nThe same lighthouse in a storm.\n'
# ...and these are claimed after it (each once the one before is: files that settle
# together are claimed in an order of the watcher's), but created before it.
wait_for 20 "remix to be claimed" known remix
drop x.txt 'A paper boat on a puddle.'
wait_for 20 "x to be claimed" known x
drop y.txt 'A kite tangled in a tree.'
for n in src remix x y; do wait_done "$n"; done

code=$(hget '/api/v1/videos?order=asc')
expect_eq "list" 200 "$code"
expect_eq "claim order" "src remix x y" "$(body_get '[.data[].name] | join(" ")')"
expect_eq "created_at ascending" true "$(body_get '[.data[].created_at] | . == sort')"
# The remix was created at the service after x and y: the service's times say so.
expect_eq "service times kept" true \
	"$(body_get '(.data | map({(.name): .timings.created_at}) | add) as $t | $t.remix >= $t.x')"
code=$(hget '/api/v1/videos')
expect_eq "created_at descending" true "$(body_get '[.data[].created_at] | . == (sort | reverse)')"
# The service's clock is an hour behind: created_at is still this machine's time.
now=$(date +%s)
expect_eq "created_at on this machine's clock" true \
	"$(body_get "[.data[].created_at] | all(. > $now - 600 and . <= $now)")"
sorad_stop
echo ok
