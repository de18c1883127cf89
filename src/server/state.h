/*
 * state.h - what the fabric remembers across restarts: the daemon's state
 * file (see state.c).
 *
 *     cx_config_load_file(...);             // the topology
 *     cx_state_load(path, f, &st, &e);      // NULL *st: no file yet
 *     cx_state_before_start(st, f);         // partitions apply at start
 *     cx_fabric_start(f, &e);
 *     cx_state_apply(st, f, &e);            // regions, decoders, DAX modes
 *     cx_state_free(st);
 *     cx_server_set_state(server, path);    // saved on every change
 */
#ifndef CXLEMU_STATE_H
#define CXLEMU_STATE_H

#include "model/model.h"

struct cx_state;

/* The state file beside a fabric socket: its path without ".sock", then
 * ".state".  Returns buf, or NULL when it does not fit. */
const char *cx_state_default_path(const char *socket, char *buf, size_t len);

/*
 * Read `path` for fabric f (loaded, not started).  No file: 0 and *out
 * NULL.  A file that is not a state file, is cut short or malformed, or
 * was written for another topology: -EINVAL (or the read's errno) with a
 * message naming the file, what is wrong and that --fresh discards it.
 */
int cx_state_load(const char *path, struct cx_fabric *f,
		  struct cx_state **out, cx_err *e);
/* Settings the fabric's start needs (pending partitions). */
void cx_state_before_start(const struct cx_state *st, struct cx_fabric *f);
/* Regions, decoders and DAX modes onto the started fabric; committed
 * regions must route as recorded, or the state is refused. */
int cx_state_apply(const struct cx_state *st, struct cx_fabric *f,
		   cx_err *e);
void cx_state_free(struct cx_state *st);

/*
 * The fabric's state as text.  cx_state_save writes it atomically (a
 * temporary file, fsync, rename, fsync of the directory) unless nothing in
 * it changed since `last` was saved (then nothing is written, and nothing
 * is formatted: a digest of the model's fields tells).  `last` starts
 * zeroed; cx_state_saved_free releases it.
 */
struct cx_state_saved {
	uint64_t digest;
	char *text;                 /* what the file holds */
};
char *cx_state_text(struct cx_fabric *f);
/* A digest of what the file records, taken from the model's fields: it
 * changes when the file would (and, rarely, when it would not). */
uint64_t cx_state_digest(struct cx_fabric *f);
int cx_state_save(const char *path, struct cx_fabric *f,
		  struct cx_state_saved *last, cx_err *e);
void cx_state_saved_free(struct cx_state_saved *last);

#endif
