/*
 * results.h - what every benchmark shares for its figures: a series of
 * per-pass samples (passes are taken round-robin with the baseline, so
 * load from elsewhere on a shared machine falls on both alike), its min
 * and median, one printed line per figure beside its baseline, and the
 * figures written to build/bench/results.json.
 *
 * results.json is one object: each key holds the figure's median over
 * its passes (null when the figure could not be measured), and
 * "detail" holds, per key, min, median, max, passes, unit, what it is
 * and its baseline (or why it is null).  Each benchmark updates the keys
 * it measures and leaves the others; `make bench` starts from an empty
 * file.  CXLEMU_BENCH_RESULTS names another file.
 */
#ifndef CXLEMU_BENCH_RESULTS_H
#define CXLEMU_BENCH_RESULTS_H

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BENCH_MAX_SAMPLES 256

struct series {
	double v[BENCH_MAX_SAMPLES];
	int n;
};

static inline void series_add(struct series *s, double x)
{
	if (s->n < BENCH_MAX_SAMPLES)
		s->v[s->n++] = x;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* the q-quantile (0..1) of a copy of the samples; 0 when empty */
static inline double series_quantile(const struct series *s, double q)
{
	double t[BENCH_MAX_SAMPLES];
	if (!s->n)
		return 0;
	memcpy(t, s->v, sizeof(double) * (size_t)s->n);
	qsort(t, (size_t)s->n, sizeof(double), bench_cmp_double);
	if (s->n % 2 == 0 && q == 0.5)
		return (t[s->n / 2 - 1] + t[s->n / 2]) / 2;
	int i = (int)(q * (s->n - 1) + 0.5);
	return t[i];
}

static inline double series_min(const struct series *s)
{
	return series_quantile(s, 0);
}

static inline double series_median(const struct series *s)
{
	return series_quantile(s, 0.5);
}

static inline double series_max(const struct series *s)
{
	return series_quantile(s, 1);
}

static inline const char *bench_results_path(void)
{
	const char *p = getenv("CXLEMU_BENCH_RESULTS");
	return p && *p ? p : "build/bench/results.json";
}

/* Read the results file (a new object when absent or unreadable), let
 * `set` change it, write it back through a temporary file and rename. */
static inline void bench_results_update(const char *key,
					struct json_object *value,
					struct json_object *detail)
{
	const char *path = bench_results_path();
	struct json_object *root = NULL;
	if (access(path, R_OK) == 0)
		root = json_object_from_file(path);
	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		root = json_object_new_object();
	}
	struct json_object *d = NULL;
	if (!json_object_object_get_ex(root, "detail", &d) ||
	    !json_object_is_type(d, json_type_object)) {
		d = json_object_new_object();
		json_object_object_add(root, "detail", d);
	}
	json_object_object_add(root, key, value);
	json_object_object_add(d, key, detail);

	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	if (json_object_to_file_ext(tmp, root, JSON_C_TO_STRING_PRETTY |
				    JSON_C_TO_STRING_SPACED |
				    JSON_C_TO_STRING_NOSLASHESCAPE) ||
	    rename(tmp, path)) {
		fprintf(stderr, "bench: cannot write %s: %s\n", path,
			json_util_get_last_err());
		unlink(tmp);
	}
	json_object_put(root);
}

/*
 * Record figure `key` (the median of `s`, in `unit`), what it measures
 * and its baseline (NULL when the figure is itself a ratio to a baseline
 * named in `what`).  bench_record_ex adds the figure's fields to `extra`
 * (consumed), an object the caller has filled with what else the reader
 * must know.
 */
static inline void bench_record_ex(const char *bench, const char *key,
				   const struct series *s, const char *unit,
				   const char *what, const struct series *base,
				   struct json_object *extra)
{
	struct json_object *d = extra ? extra : json_object_new_object();
	json_object_object_add(d, "bench", json_object_new_string(bench));
	json_object_object_add(d, "what", json_object_new_string(what));
	json_object_object_add(d, "unit", json_object_new_string(unit));
	json_object_object_add(d, "passes", json_object_new_int(s->n));
	json_object_object_add(d, "min", json_object_new_double(series_min(s)));
	json_object_object_add(d, "median",
			       json_object_new_double(series_median(s)));
	json_object_object_add(d, "max", json_object_new_double(series_max(s)));
	/* how busy the machine was: the figures of a shared machine are
	 * read against it (the baselines share the load, absolute figures
	 * do not) */
	double load[1];
	if (getloadavg(load, 1) == 1)
		json_object_object_add(d, "loadavg_1min",
				       json_object_new_double(load[0]));
	json_object_object_add(d, "online_cpus", json_object_new_int(
		(int)sysconf(_SC_NPROCESSORS_ONLN)));
	if (base) {
		json_object_object_add(d, "baseline_min",
				       json_object_new_double(series_min(base)));
		json_object_object_add(d, "baseline_median",
				       json_object_new_double(series_median(base)));
	}
	bench_results_update(key, json_object_new_double(series_median(s)), d);
}

static inline void bench_record(const char *bench, const char *key,
				const struct series *s, const char *unit,
				const char *what, const struct series *base)
{
	bench_record_ex(bench, key, s, unit, what, base, NULL);
}

/* A figure that could not be measured in this run, and why. */
static inline void bench_record_none(const char *bench, const char *key,
				     const char *why)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "bench", json_object_new_string(bench));
	json_object_object_add(d, "why_null", json_object_new_string(why));
	bench_results_update(key, NULL, d);
	printf("  %-36s not measured: %s\n", key, why);
}

/* One printed line: the figure's min and median, and its baseline's. */
static inline void bench_print(const char *label, const struct series *s,
			       const char *unit, const struct series *base)
{
	printf("  %-32s min %10.4g  median %10.4g %-5s", label, series_min(s),
	       series_median(s), unit);
	if (base)
		printf(" | baseline min %10.4g  median %10.4g", series_min(base),
		       series_median(base));
	printf("  (%d passes)\n", s->n);
}

#endif
