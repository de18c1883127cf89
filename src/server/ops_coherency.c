/*
 * ops_coherency.c - the shared state that non-coherent mappings of a DAX
 * device need (dax-coherency request; the engine is client/coherency.c).
 *
 * Every host that maps a device non-coherently keeps its own cache, but
 * the line states must be common to all of them: one 64-bit word per
 * 64-byte line of each media (version, last writer, busy bit), so that
 * fills and write-backs are line transactions and the checker can tell a
 * stale read or a lost update.  The daemon is the one place every host
 * reaches, so it keeps one state memfd per block of media a mapping is
 * lent (media.h; keyed by the block's store and place in it: two hosts'
 * heads of one shared device get the same one, and so does the block lent
 * again later), made on first request and kept until the server closes,
 * and a registry memfd where each mapping client's writer id is named
 * ("host1 pid 42") for reports.  The reply carries the registry, then one
 * state descriptor per block in dax-map's descriptor order.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/coherency.h"
#include "model/dax.h"

struct line_state {
	struct line_state *next;
	const struct cx_store *store;   /* the block's bytes ... */
	uint64_t base;                  /* ... from here in the store */
	int fd;
	uint64_t len;
};
static struct line_state *states;
static int registry_fd = -1;
static char *registry;
static unsigned next_writer;

static int get_registry(cx_err *e)
{
	if (registry)
		return 0;
	int fd = memfd_create("cxlemu-coherency-writers", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, CX_COH_REG_SIZE) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return cx_fail(e, err, "cannot make the coherency registry: %s",
			       strerror(err));
	}
	void *p = mmap(NULL, CX_COH_REG_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;
		close(fd);
		return cx_fail(e, err, "cannot map the coherency registry: %s",
			       strerror(err));
	}
	registry_fd = fd;
	registry = p;
	return 0;
}

/* The line states of lent block b, made on first use (grown if the block
 * is lent longer than before). */
static int state_of(const struct cx_media_lease *b, struct line_state **out,
		    cx_err *e)
{
	uint64_t len = (b->fd_len + CX_COH_LINE - 1) / CX_COH_LINE * 8;
	struct line_state *s = states;
	while (s && (s->store != b->store || s->base != b->base))
		s = s->next;
	if (s && s->len >= len) {
		*out = s;
		return 0;
	}
	int fd = s ? s->fd : memfd_create("cxlemu-line-states", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0) {
		int err = errno;
		if (fd >= 0 && !s)
			close(fd);
		return cx_fail(e, err, "block at %#llx: cannot make its line "
			       "states (%llu bytes): %s",
			       (unsigned long long)b->base,
			       (unsigned long long)len, strerror(err));
	}
	if (!s) {
		s = cx_xcalloc(1, sizeof(*s));
		s->store = b->store;
		s->base = b->base;
		s->fd = fd;
		s->next = states;
		states = s;
	}
	s->len = len;
	*out = s;
	return 0;
}

void cx_srv_coherency_release(void)
{
	while (states) {
		struct line_state *s = states;
		states = s->next;
		close(s->fd);
		free(s);
	}
	if (registry)
		munmap(registry, CX_COH_REG_SIZE);
	if (registry_fd >= 0)
		close(registry_fd);
	registry = NULL;
	registry_fd = -1;
}

static int hand_over(struct cx_srv_call *c, int fd, const char *what,
		     cx_err *e)
{
	if (c->nfds >= CX_PROTO_MAX_FDS)
		return cx_fail(e, EMFILE, "too many media for one mapping");
	int d = dup(fd);
	if (d < 0)
		return cx_fail(e, errno, "%s: dup: %s", what, strerror(errno));
	c->fds[c->nfds++] = d;
	return 0;
}

int cx_op_dax_coherency(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	struct cx_srv_blocks *b = cx_xcalloc(1, sizeof(*b));
	int err, pid = 0;

	if ((err = cx_srv_dax_device(c, &r, e)) ||
	    (err = cx_proto_get_int(c->req, "pid", false, &pid, e)) ||
	    (err = cx_srv_region_blocks(c->fabric, r, b, e)) ||
	    (err = get_registry(e)) ||
	    (err = hand_over(c, registry_fd, "registry", e)))
		goto fail;
	struct json_object *lens = json_object_new_array();
	for (int i = 0; i < b->n; i++) {
		struct line_state *s = NULL;
		if ((err = state_of(&b->blk[i], &s, e)) ||
		    (err = hand_over(c, s->fd, "line states", e))) {
			json_object_put(lens);
			goto fail;
		}
		json_object_array_add(lens, json_object_new_uint64(s->len));
	}
	/* writer ids 1..SLOTS-1, reused in turn */
	unsigned w = next_writer % (CX_COH_REG_SLOTS - 1) + 1;
	next_writer++;
	snprintf(registry + w * CX_COH_REG_SLOT, CX_COH_REG_SLOT, "%s pid %d",
		 c->host->name, pid);
	c->result = json_object_new_object();
	json_object_object_add(c->result, "writer", json_object_new_int((int)w));
	json_object_object_add(c->result, "state_len", lens);
	free(b);
	return 0;
fail:
	for (int i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
	free(b);
	return err;
}
