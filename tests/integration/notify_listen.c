/*
 * notify_listen.c — a stand-in for systemd's notification socket in tests: binds a
 * Unix datagram socket at PATH and prints every message it receives as one line
 * (newlines inside a message become " | "), until SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: notify_listen PATH\n");
		return 64;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "notify_listen: path too long\n");
		return 64;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "notify_listen: %s: %s\n", argv[1], strerror(errno));
		return 71;
	}
	signal(SIGTERM, SIG_DFL);
	char buf[4096];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "notify_listen: recv: %s\n", strerror(errno));
			return 74;
		}
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && i + 1 < n)
				fputs(" | ", stdout);
			else if (buf[i] != '\n')
				fputc(buf[i], stdout);
		}
		fputc('\n', stdout);
		fflush(stdout);
	}
}
