# SoradInstall.cmake — run by `cmake --install` (see the install() rules at the end of
# CMakeLists.txt). It writes the files whose contents name installed paths: the system
# and user systemd units, the system configuration /etc/sorad/sorad.conf and the user
# configuration template. It runs at install time so that `cmake --install --prefix P`
# gets paths under P, not under the prefix the tree was configured with; DESTDIR is
# applied by file(INSTALL).
#
# Set before it by install(CODE): SORAD_SOURCE_DIR, SORAD_GEN_DIR, SORAD_BINDIR,
# SORAD_DATADIR, SORAD_SYSCONFDIR (GNUInstallDirs values, usually relative),
# SORAD_SYSTEM_UNIT_DIR, SORAD_USER_UNIT_DIR (relative to the prefix, or absolute).

# GNUInstallDirs' rule for a directory under the prefix, applied to the install-time
# prefix: /etc and /var for the prefixes / and /usr, /etc/opt/... for /opt/....
function(sorad_full_dir out rel kind)
  set(p "${CMAKE_INSTALL_PREFIX}")
  string(REGEX REPLACE "/+$" "" p "${p}")
  if(IS_ABSOLUTE "${rel}")
    set(full "${rel}")
  elseif(kind STREQUAL "sysconf" AND (p STREQUAL "" OR p STREQUAL "/usr"))
    set(full "/${rel}")
  elseif(kind STREQUAL "sysconf" AND p MATCHES "^/opt/")
    set(full "/etc${p}")
  else()
    set(full "${p}/${rel}")
  endif()
  set(${out} "${full}" PARENT_SCOPE)
endfunction()

sorad_full_dir(BINDIR "${SORAD_BINDIR}" plain)
sorad_full_dir(DATADIR "${SORAD_DATADIR}" plain)
sorad_full_dir(SYSCONFDIR "${SORAD_SYSCONFDIR}" sysconf)
sorad_full_dir(system_unit_dir "${SORAD_SYSTEM_UNIT_DIR}" plain)
sorad_full_dir(user_unit_dir "${SORAD_USER_UNIT_DIR}" plain)

# Replaces the line OLD of sorad.conf by NEW; a line that is not there any more means
# sorad.conf changed under this script, which must then be updated, so it stops.
function(sorad_conf_line var old new)
  string(FIND "${${var}}" "\n${old}\n" at)
  if(at LESS 0)
    message(FATAL_ERROR "SoradInstall.cmake: sorad.conf has no line '${old}' any more")
  endif()
  string(REPLACE "\n${old}\n" "\n${new}\n" text "${${var}}")
  set(${var} "${text}" PARENT_SCOPE)
endfunction()

file(READ "${SORAD_SOURCE_DIR}/sorad.conf" conf)

# The system service's configuration: everything under /var/lib/sorad (one mount, so
# that claiming by rename works), logs in /var/log/sorad, the key from systemd's
# LoadCredential= (or the file itself when run by hand as root), no desktop.
set(sys "${conf}")
sorad_conf_line(sys "# Check a file with:  sorad check-config -c sorad.conf"
  "# Check a file with:  sorad check-config -c sorad.conf\n#\n# This copy is set up for the system service (sorad.service): folders under\n# /var/lib/sorad and /var/log/sorad, the API key from ${SYSCONFDIR}/sorad/api-key,\n# which systemd hands over as the credential \"api-key\". See sorad(1), SYSTEMD.")
sorad_conf_line(sys "#api_key_file = \"/etc/sorad/api-key\""
  "api_key_file = \"\${CREDENTIALS_DIRECTORY:-${SYSCONFDIR}/sorad}/api-key\"")
sorad_conf_line(sys "inbox = \"inbox\"" "inbox = \"/var/lib/sorad/inbox\"")
sorad_conf_line(sys "outbox = \"videos\"" "outbox = \"/var/lib/sorad/outbox\"")
sorad_conf_line(sys "#failed_dir = \"videos/failed\"" "#failed_dir = \"/var/lib/sorad/outbox/failed\"")
sorad_conf_line(sys "state_dir = \"state\"" "state_dir = \"/var/lib/sorad/state\"")
sorad_conf_line(sys "log_dir = \"logs\"" "log_dir = \"/var/log/sorad\"")
sorad_conf_line(sys "notify = true" "notify = false")

# The desktop session's configuration (the user unit copies it to
# ~/.config/sorad/sorad.conf at the first start): XDG folders below ${HOME}.
set(usr "${conf}")
sorad_conf_line(usr "# Check a file with:  sorad check-config -c sorad.conf"
  "# Check a file with:  sorad check-config -c ~/.config/sorad/sorad.conf\n#\n# This copy is set up for your desktop session (systemctl --user start sorad):\n# drop prompts into ~/Videos/Sora/inbox, find videos in ~/Videos/Sora/outbox. Put\n# the API key, one line, in ~/.config/sorad/api-key (chmod 600).")
sorad_conf_line(usr "#api_key_file = \"/etc/sorad/api-key\""
  "api_key_file = \"\${HOME}/.config/sorad/api-key\"")
sorad_conf_line(usr "inbox = \"inbox\"" "inbox = \"\${HOME}/Videos/Sora/inbox\"")
sorad_conf_line(usr "outbox = \"videos\"" "outbox = \"\${HOME}/Videos/Sora/outbox\"")
sorad_conf_line(usr "#failed_dir = \"videos/failed\"" "#failed_dir = \"\${HOME}/Videos/Sora/outbox/failed\"")
sorad_conf_line(usr "state_dir = \"state\"" "state_dir = \"\${HOME}/.local/state/sorad\"")
sorad_conf_line(usr "log_dir = \"logs\"" "log_dir = \"\${HOME}/.local/state/sorad/logs\"")

file(MAKE_DIRECTORY "${SORAD_GEN_DIR}/system" "${SORAD_GEN_DIR}/user")
file(WRITE "${SORAD_GEN_DIR}/system/sorad.conf" "${sys}")
file(WRITE "${SORAD_GEN_DIR}/user/sorad.user.conf" "${usr}")
configure_file("${SORAD_SOURCE_DIR}/contrib/systemd/system/sorad.service.in"
  "${SORAD_GEN_DIR}/system/sorad.service" @ONLY)
configure_file("${SORAD_SOURCE_DIR}/contrib/systemd/user/sorad.service.in"
  "${SORAD_GEN_DIR}/user/sorad.service" @ONLY)

file(INSTALL DESTINATION "${SYSCONFDIR}/sorad" TYPE FILE FILES "${SORAD_GEN_DIR}/system/sorad.conf")
file(INSTALL DESTINATION "${DATADIR}/sorad" TYPE FILE FILES "${SORAD_GEN_DIR}/user/sorad.user.conf")
file(INSTALL DESTINATION "${system_unit_dir}" TYPE FILE FILES "${SORAD_GEN_DIR}/system/sorad.service")
file(INSTALL DESTINATION "${user_unit_dir}" TYPE FILE FILES "${SORAD_GEN_DIR}/user/sorad.service")
