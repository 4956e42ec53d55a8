/* t_sdnotify.c — the sd_notify protocol without libsystemd (sdnotify.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

/* A datagram socket bound at ADDR (a path, or "@NAME": abstract), as systemd's. */
static int listener(const char *addr)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(addr);
	assert_true(len < sizeof(sa.sun_path));
	memcpy(sa.sun_path, addr, len);
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (bind(fd, (struct sockaddr *)&sa, salen) != 0)
		fail_msg("bind %s: %s", addr, strerror(errno));
	return fd;
}

/* The datagram waiting on FD (sendto on a Unix socket has queued it already). */
static void expect_message(int fd, const char *expected)
{
	char buf[600];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0)
		fail_msg("expected \"%s\" on the notify socket, got nothing (%s)", expected,
		         strerror(errno));
	buf[n] = '\0';
	if (strcmp(buf, expected) != 0)
		fail_msg("expected \"%s\" on the notify socket, got \"%s\"", expected, buf);
}

static void t_sdnotify_sends_to_an_abstract_socket(void **state)
{
	(void)state;
	char addr[64];
	snprintf(addr, sizeof(addr), "@sorad-t-sdnotify-%ld", (long)getpid());
	int fd = listener(addr);
	setenv("NOTIFY_SOCKET", addr, 1);
	sdn_send("READY=1\nSTATUS=%d queued", 3);
	expect_message(fd, "READY=1\nSTATUS=3 queued");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

static void t_sdnotify_sends_to_a_path_socket(void **state)
{
	(void)state;
	char dir[] = "/tmp/sorad-t-sdnotify.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[96];
	snprintf(path, sizeof(path), "%s/notify.sock", dir);
	int fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	sdn_send("WATCHDOG=1");
	expect_message(fd, "WATCHDOG=1");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void t_sdnotify_is_quiet_without_a_usable_notify_socket(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	sdn_send("READY=1");
	setenv("NOTIFY_SOCKET", "relative.sock", 1); /* systemd never sets one: ignored */
	sdn_send("READY=1");
	setenv("NOTIFY_SOCKET", "/nonexistent/notify.sock", 1); /* systemd gone: no error */
	sdn_send("STOPPING=1");
	unsetenv("NOTIFY_SOCKET");
}

static void t_watchdog_ms_reads_watchdog_usec_for_this_process(void **state)
{
	(void)state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(sdn_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "300000", 1);
	assert_int_equal(sdn_watchdog_ms(), 300);
	char pid[32];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdn_watchdog_ms(), 300);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1); /* meant for another process */
	assert_int_equal(sdn_watchdog_ms(), 0);
	setenv("WATCHDOG_PID", "me", 1);
	assert_int_equal(sdn_watchdog_ms(), 0);
	unsetenv("WATCHDOG_PID");
	static const char *const bad[] = {"", "soon", "-5", "30s", "0", "18446744073709551615"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		if (sdn_watchdog_ms() != 0)
			fail_msg("WATCHDOG_USEC=\"%s\": expected no watchdog, got %lld ms", bad[i],
			         sdn_watchdog_ms());
	}
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_sdnotify_sends_to_an_abstract_socket),
	    cmocka_unit_test(t_sdnotify_sends_to_a_path_socket),
	    cmocka_unit_test(t_sdnotify_is_quiet_without_a_usable_notify_socket),
	    cmocka_unit_test(t_watchdog_ms_reads_watchdog_usec_for_this_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
