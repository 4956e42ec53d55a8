/* usage_bench.c — how long usage_load takes and how much memory it keeps, for the
 * usage log of a state directory (bench/tools/make_history.py writes one):
 *
 *   cc -O2 -Iinclude bench/tools/usage_bench.c BUILD/libsorad_core.a -lcjson -lm -o usage_bench
 *   ./usage_bench STATE_DIR            (the daemon's load: usage_load_compact)
 *   ./usage_bench STATE_DIR full       (the command's load: usage_load)
 *
 * Prints the wall and CPU time of the load, the peak RSS it added (getrusage's maxrss
 * after less before), what it keeps (VmRSS after less before, /proc/self/status), and
 * today's, this month's and all time's totals (to compare the two loads). */
#include "usage.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static long maxrss_kib(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* VmRSS in KiB, or -1. */
static long rss_kib(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

static double cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: usage_bench STATE_DIR [full]\n");
		return 2;
	}
	bool full = argc > 2 && !strcmp(argv[2], "full");
	time_t now = time(NULL);
	long before = maxrss_kib(), rss0 = rss_kib();
	double t0 = now_s(), c0 = cpu_s();
	struct usage *u = full ? usage_load(argv[1]) : usage_load_compact(argv[1], now);
	double t1 = now_s(), c1 = cpu_s();
	long after = maxrss_kib(), rss1 = rss_kib();
	struct usage_sum day, month, all;
	usage_totals(u, usage_day_start(now), (long long)now + 86400, NULL, &day);
	usage_totals(u, usage_month_start(now), (long long)now + 86400, NULL, &month);
	usage_totals(u, 0, (long long)now + 86400, NULL, &all);
	double t2 = now_s();
	printf("%s load: %.3f s wall, %.3f s CPU; peak RSS %ld KiB before, %ld KiB after "
	       "(+%.1f MiB); kept +%.1f MiB\n",
	       full ? "full" : "compact", t1 - t0, c1 - c0, before, after,
	       (double)(after - before) / 1024, (double)(rss1 - rss0) / 1024);
	printf("totals (%.1f ms): today %llu s $%.2f %zu; month %llu s $%.2f %zu; all %llu s "
	       "$%.2f %zu\n",
	       (t2 - t1) * 1e3, day.seconds, day.usd, day.creates, month.seconds, month.usd,
	       month.creates, all.seconds, all.usd, all.creates);
	usage_free(u);
	return 0;
}
