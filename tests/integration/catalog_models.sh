#!/usr/bin/env bash
# `sorad models` against sora-sim --protocol openrouter: every model the simulator's
# GET /api/v1/videos/models serves is printed with its durations, resolutions, aspect
# ratios, sizes, frame images and prices per second, as text and as --json (the
# service's own schema); without a key too (the catalog is public); and a service
# without a catalog is an error that says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --protocol openrouter --gen-ms 200
code=$(http_req GET "$SIM_URL/api/v1/videos/models")
expect_eq "the sim's catalog" 200 "$code"
cp "$T/body" "$T/served.json"
sorad_conf
sed -i "s|^api_base = .*|api_base = \"$SIM_URL/api/v1\"|" "$T/sorad.conf"

# --json: the fields sorad keeps, exactly as served.
OPENAI_API_KEY=$SORAD_KEY "$SORAD_BIN" models -c "$T/sorad.conf" --json >"$T/models.json" ||
	fail "sorad models --json failed"
fields='[.data[] | {id, name, supported_durations, supported_resolutions, supported_aspect_ratios,
	supported_sizes, supported_frame_images, generate_audio, seed, pricing_skus}]'
expect_eq "--json against what the sim serves" "$(jq -cS "$fields" "$T/served.json")" \
	"$(jq -cS "$fields" "$T/models.json")"
expect_eq "--json api_base" "$SIM_URL/api/v1" "$(jq -r .api_base "$T/models.json")"
[ "$(jq -r '.data | length' "$T/served.json")" -ge 3 ] || fail "the sim serves fewer than 3 models"

# Text: each model's lines built from the sim's answer.
env -u OPENAI_API_KEY "$SORAD_BIN" models -c "$T/sorad.conf" >"$T/models.txt" ||
	fail "sorad models without a key failed: the catalog is public"
line() { jq -r --arg id "$1" ".data[] | select(.id == \$id) | $2" "$T/served.json"; }
for id in $(jq -r '.data[].id' "$T/served.json"); do
	block=$(awk -v id="$id" '$1 == id { on = 1; print; next } /^$/ { on = 0 } on' "$T/models.txt")
	[ -n "$block" ] || fail "$id is not printed: $(cat "$T/models.txt")"
	for want in \
		"durations      $(line "$id" '.supported_durations | map(tostring) | join(", ")') seconds" \
		"resolutions    $(line "$id" '.supported_resolutions | join(", ")')" \
		"aspect ratios  $(line "$id" '.supported_aspect_ratios | join(", ")')" \
		"frame images   $(line "$id" '.supported_frame_images | join(", ")')" \
		"USD/second     $(line "$id" '.pricing_skus | to_entries | map("\(.value) \(.key)") | join(", ")')"; do
		grep -qxF "  $want" <<<"$block" || fail "$id: no line '$want' in: $block"
	done
	# Every size the sim lists is among the sizes printed.
	for size in $(line "$id" '(.supported_sizes // [])[]'); do
		grep -q "^  sizes .*$size" <<<"$block" || fail "$id: size $size not printed: $block"
	done
done
grep -qxF "  sizes          1280x720, 720x1280, 1920x1080, 1080x1920" \
	<<<"$(awk '$1 == "google/veo-3.1" { on = 1 } /^$/ { on = 0 } on' "$T/models.txt")" ||
	fail "veo's sizes (720p and 1080p at 16:9 and 9:16) are not derived: $(cat "$T/models.txt")"

# A service without a catalog (the OpenAI mode has no /videos/models): exit 69, a reason.
sed -i "s|^api_base = .*|api_base = \"$SIM_URL/v1\"|" "$T/sorad.conf"
rc=0
OPENAI_API_KEY=$SORAD_KEY "$SORAD_BIN" models -c "$T/sorad.conf" >"$T/none.out" 2>"$T/none.err" || rc=$?
expect_eq "models without a catalog: exit" 69 "$rc"
grep -q "cannot fetch $SIM_URL/v1/videos/models: HTTP 404" "$T/none.err" ||
	fail "no reason given: $(cat "$T/none.err")"
if grep -rqF "$SORAD_KEY" "$T/none.err" "$T/models.txt" "$T/models.json"; then
	fail "the API key was printed"
fi
echo ok
