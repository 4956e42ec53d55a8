#!/usr/bin/env bash
# `cmake --install --prefix /usr` into a temporary DESTDIR gives a complete, working
# tree: binaries that run, the system configuration (every key of sorad.conf, folders
# under /var/lib/sorad, the key from the credential) and the user one (XDG folders),
# both systemd units passing `systemd-analyze verify` with their man pages found, the
# sysusers.d and tmpfiles.d entries applying, man pages without a lint or render
# warning that document every key, and the examples. Nothing lands outside DESTDIR.
. "$(dirname "$0")/lib.sh"

for tool in systemd-analyze mandoc man; do
	command -v "$tool" >/dev/null ||
		fail "$tool is missing: run scripts/install-deps.sh (packages systemd, mandoc, man-db)"
done

R="$T/root"
# The install writes its generated files below the build tree; one install at a time.
DESTDIR="$R" flock "$SORAD_BUILD_DIR/.install.lock" \
	cmake --install "$SORAD_BUILD_DIR" --prefix /usr >"$T/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -20 "$T/install.log")"
grep -q "^-- Installing: $R/" "$T/install.log" || fail "nothing was installed under DESTDIR"
if grep -E '^-- (Installing|Up-to-date): ' "$T/install.log" | grep -v -- "-- [A-Za-z-]*: $R/"; then
	fail "the lines above were installed outside DESTDIR"
fi

# ---- the tree ----------------------------------------------------------------------
for f in usr/bin/sorad usr/bin/sora-sim etc/sorad/sorad.conf usr/share/sorad/sorad.user.conf \
	usr/lib/systemd/system/sorad.service usr/lib/systemd/user/sorad.service \
	usr/lib/sysusers.d/sorad.conf usr/lib/tmpfiles.d/sorad.conf \
	usr/share/man/man1/sorad.1 usr/share/man/man1/sora-sim.1 usr/share/man/man5/sorad.conf.5 \
	usr/share/doc/sorad/README.md usr/share/doc/sorad/sorad.conf \
	usr/share/doc/sorad/examples/README.md usr/share/doc/sorad/examples/gateways/openai.conf \
	usr/share/doc/sorad/examples/gateways/azure.conf \
	usr/share/doc/sorad/examples/gateways/litellm.conf \
	usr/share/bash-completion/completions/sorad; do
	[ -f "$R/$f" ] || fail "not installed: /$f"
done
if [ ! -x "$R/usr/bin/sorad" ] || [ ! -x "$R/usr/bin/sora-sim" ]; then
	fail "the binaries are not executable"
fi
"$R/usr/bin/sorad" --version | grep -q '^sorad [0-9]' || fail "installed sorad --version"
"$R/usr/bin/sora-sim" --version | grep -q '^sora-sim [0-9]' || fail "installed sora-sim --version"

# ---- the system configuration --------------------------------------------------------
keys() { sed -n 's/^#\{0,1\}\([a-z_]*\) = .*/\1/p' "$1" | sort -u; }
diff <(keys "$SORAD_SOURCE_DIR/sorad.conf") <(keys "$R/etc/sorad/sorad.conf") ||
	fail "/etc/sorad/sorad.conf does not list the keys of sorad.conf"
mkdir -p "$T/creds" && (umask 077 && echo sk-installed >"$T/creds/api-key")
CREDENTIALS_DIRECTORY="$T/creds" "$R/usr/bin/sorad" check-config -c "$R/etc/sorad/sorad.conf" \
	>"$T/sys.out" 2>&1 || fail "check-config on /etc/sorad/sorad.conf: $(cat "$T/sys.out")"
for want in 'inbox +/var/lib/sorad/inbox$' 'outbox +/var/lib/sorad/outbox$' \
	'state_dir +/var/lib/sorad/state$' 'log_dir +/var/log/sorad ' 'api key +.*api-key'; do
	grep -Eq "^ *$want" "$T/sys.out" || fail "system configuration: no line '$want' in: $(cat "$T/sys.out")"
done
if grep -q 'sk-installed' "$T/sys.out"; then
	fail "check-config printed the key"
fi
grep -q '^notify = false' "$R/etc/sorad/sorad.conf" || fail "the system service has no desktop: notify = false"

# ---- the user configuration (XDG folders) ---------------------------------------------
H="$T/home"
mkdir -p "$H/.config/sorad" && (umask 077 && echo sk-user >"$H/.config/sorad/api-key")
HOME="$H" "$R/usr/bin/sorad" check-config -c "$R/usr/share/sorad/sorad.user.conf" >"$T/user.out" 2>&1 ||
	fail "check-config on sorad.user.conf: $(cat "$T/user.out")"
for want in "inbox +$H/Videos/Sora/inbox\$" "outbox +$H/Videos/Sora/outbox\$" \
	"state_dir +$H/.local/state/sorad\$" "log_dir +$H/.local/state/sorad/logs "; do
	grep -Eq "^ *$want" "$T/user.out" || fail "user configuration: no line '$want' in: $(cat "$T/user.out")"
done

# ---- the units -----------------------------------------------------------------------
sys="$R/usr/lib/systemd/system/sorad.service" usr="$R/usr/lib/systemd/user/sorad.service"
# shellcheck disable=SC2016 # $MAINPID is the unit's, not ours
for d in Type=notify 'ExecStart=/usr/bin/sorad -c /etc/sorad/sorad.conf' \
	'ExecReload=/bin/kill -HUP $MAINPID' WatchdogSec= User=sorad StateDirectory=sorad \
	LogsDirectory=sorad ConfigurationDirectory=sorad 'LoadCredential=api-key:/etc/sorad/api-key' \
	ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' SystemCallFilter=@system-service UMask=0077 \
	'CapabilityBoundingSet=$' MemoryDenyWriteExecute=yes; do
	grep -q "^$d" "$sys" || fail "sorad.service (system) lacks $d"
done
# shellcheck disable=SC2016 # $MAINPID is the unit's, not ours
for d in Type=notify 'ExecStart=/usr/bin/sorad -c %E/sorad/sorad.conf' WatchdogSec= \
	'ExecReload=/bin/kill -HUP $MAINPID' WantedBy=default.target; do
	grep -q "^$d" "$usr" || fail "sorad.service (user) lacks $d"
done
if grep -n '@[A-Z_]*@' "$sys" "$usr"; then
	fail "unsubstituted @VAR@ in a unit (above)"
fi

# systemd-analyze verify checks that ExecStart's binary exists on this machine, so it
# reads a copy of each installed unit whose /usr/bin points into DESTDIR; MANPATH lets
# it find the Documentation= pages in DESTDIR too. With --user it needs a runtime dir.
mkdir -p "$T/verify/system" "$T/verify/user" "$T/run" && chmod 700 "$T/run"
sed "s#/usr/bin/#$R/usr/bin/#g" "$sys" >"$T/verify/system/sorad.service"
sed "s#/usr/bin/#$R/usr/bin/#g" "$usr" >"$T/verify/user/sorad.service"
MANPATH="$R/usr/share/man" systemd-analyze verify --man=yes "$T/verify/system/sorad.service" \
	>"$T/verify-system.out" 2>&1 || fail "systemd-analyze verify (system unit): $(cat "$T/verify-system.out")"
[ ! -s "$T/verify-system.out" ] || fail "systemd-analyze verify (system unit) warns: $(cat "$T/verify-system.out")"
MANPATH="$R/usr/share/man" XDG_RUNTIME_DIR="$T/run" systemd-analyze --user verify --man=yes \
	"$T/verify/user/sorad.service" >"$T/verify-user.out" 2>&1 ||
	fail "systemd-analyze --user verify (user unit): $(cat "$T/verify-user.out")"
[ ! -s "$T/verify-user.out" ] || fail "systemd-analyze verify (user unit) warns: $(cat "$T/verify-user.out")"

# The sandbox's exposure as systemd-analyze security rates it offline (1.2 when this
# was written, see docs/SYSTEMD.md); it reads the unit inside the tree, where
# ExecReload's /bin/kill must exist too.
mkdir -p "$R/bin" && cp /bin/kill "$R/bin/kill"
systemd-analyze security --offline=true --threshold=20 --root="$R" \
	/usr/lib/systemd/system/sorad.service >"$T/security.out" 2>&1 ||
	fail "systemd-analyze security: exposure above 2.0 or an error: $(cat "$T/security.out")"
rm -r "${R:?}/bin"

# The user unit's first start writes ~/.config/sorad/sorad.conf from the template, and
# never overwrites it: run its ExecStartPre as systemd would (%E, $$ expanded).
pre=$(sed -n 's/^ExecStartPre=//p' "$usr" | sed -e "s#%E#$H/.config#g" -e 's/\$\$/$/g' \
	-e "s#/usr/share/#$R/usr/share/#g")
[ -n "$pre" ] || fail "the user unit has no ExecStartPre"
rm -rf "$H/.config/sorad/sorad.conf"
bash -c "$pre" || fail "ExecStartPre failed: $pre"
cmp -s "$H/.config/sorad/sorad.conf" "$R/usr/share/sorad/sorad.user.conf" ||
	fail "ExecStartPre did not write ~/.config/sorad/sorad.conf"
[ "$(stat -c %a "$H/.config/sorad/sorad.conf")" = 600 ] || fail "the user configuration should be 600"
echo '# mine' >>"$H/.config/sorad/sorad.conf"
bash -c "$pre" || fail "ExecStartPre failed with an existing configuration"
tail -1 "$H/.config/sorad/sorad.conf" | grep -q '^# mine' ||
	fail "ExecStartPre overwrote an existing configuration"

# sysusers.d and tmpfiles.d apply to the tree (chown needs root: tmpfiles only then).
systemd-sysusers --root="$R" "$R/usr/lib/sysusers.d/sorad.conf" >"$T/sysusers.out" 2>&1 ||
	fail "systemd-sysusers: $(cat "$T/sysusers.out")"
grep -q '^sorad:' "$R/etc/passwd" || fail "sysusers.d did not create the user sorad"
if [ "$(id -u)" = 0 ]; then
	systemd-tmpfiles --root="$R" --create "$R/usr/lib/tmpfiles.d/sorad.conf" >"$T/tmpfiles.out" 2>&1 ||
		fail "systemd-tmpfiles: $(cat "$T/tmpfiles.out")"
	[ "$(stat -c %a "$R/var/lib/sorad/inbox")" = 2770 ] || fail "the inbox should be 2770"
fi

# ---- the man pages ---------------------------------------------------------------------
for page in man1/sorad.1 man1/sora-sim.1 man5/sorad.conf.5; do
	f="$R/usr/share/man/$page"
	mandoc -T lint -W warning "$f" >"$T/lint.out" 2>&1 || fail "mandoc -T lint $page: $(cat "$T/lint.out")"
	[ ! -s "$T/lint.out" ] || fail "mandoc -T lint $page: $(cat "$T/lint.out")"
	MANWIDTH=80 man -l "$f" >"$T/page.txt" 2>"$T/man.err" || fail "man -l $page failed: $(cat "$T/man.err")"
	[ ! -s "$T/man.err" ] || fail "man -l $page warns: $(cat "$T/man.err")"
	grep -q '^NAME' "$T/page.txt" || fail "man -l $page: no NAME section"
	# groff's own warnings (man -l does not enable them all).
	groff -man -Tutf8 -ww -z "$f" >"$T/groff.out" 2>&1 || fail "groff $page: $(cat "$T/groff.out")"
	[ ! -s "$T/groff.out" ] || fail "groff -ww $page warns: $(cat "$T/groff.out")"
done
MANWIDTH=200 man -l "$R/usr/share/man/man5/sorad.conf.5" >"$T/conf5.txt" 2>/dev/null
for k in $(keys "$SORAD_SOURCE_DIR/sorad.conf"); do
	grep -q "\\b$k\\b" "$T/conf5.txt" || fail "sorad.conf(5) does not document the key $k"
done
MANPATH="$R/usr/share/man" man -w sorad.conf >/dev/null 2>&1 || fail "man -w sorad.conf: not found in the tree"

echo "install_tree: ok"
