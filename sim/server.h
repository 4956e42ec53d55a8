/*
 * server.h - the HTTP side of sora-sim: a libmicrohttpd daemon (internal epoll
 * threads) that collects request bodies, applies auth and the injected faults around
 * routes.c's endpoints, and sends replies whole, cut short, delayed or not at all.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include <sys/socket.h>

struct server_conf {
	struct sockaddr_storage addr; /* where to listen; port 0 picks a free one */
	socklen_t addrlen;
	unsigned threads; /* MHD polling threads */
	unsigned conn_limit;
	unsigned conn_timeout_s;
	unsigned long long max_body; /* request bodies above this get 413 */
};

/* Starts listening; *port receives the bound port. 0 or -1 (logged). */
int server_start(const struct server_conf *conf, unsigned *port);
/* Releases delayed responses and stops the daemon. */
void server_stop(void);

#endif
