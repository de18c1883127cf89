/*
 * ops_coherency.c - the shared state that non-coherent mappings of a DAX
 * device need (dax-coherency request; the engine is client/coherency.c).
 *
 * Every host that maps a device non-coherently keeps its own cache, but
 * the line states must be common to all of them: one 64-bit word per
 * 64-byte line of each media (version, last writer, busy bit), so that
 * fills and write-backs are line transactions and the checker can tell a
 * stale read or a lost update.  The daemon is the one place every host
 * reaches, so it keeps one state memfd per media file (keyed by device
 * and inode: two hosts' heads of one shared device get the same one),
 * made on first request and kept for the daemon's life, and a registry
 * memfd where each mapping client's writer id is named ("host1 pid 42")
 * for reports.  The reply carries the registry, then one state descriptor
 * per media in dax-map's descriptor order.
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
	dev_t dev;
	ino_t ino;
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

/* The line states of media m's file, made on first use. */
static int state_of(struct cx_media *m, struct line_state **out, cx_err *e)
{
	struct stat st;
	if (fstat(m->fd, &st) < 0)
		return cx_fail(e, errno, "media %s: fstat: %s", m->name,
			       strerror(errno));
	for (struct line_state *s = states; s; s = s->next)
		if (s->dev == st.st_dev && s->ino == st.st_ino) {
			*out = s;
			return 0;
		}
	uint64_t bytes = (uint64_t)st.st_size;
	if (bytes < m->offset + m->size)
		bytes = m->offset + m->size;
	uint64_t len = (bytes + CX_COH_LINE - 1) / CX_COH_LINE * 8;
	int fd = memfd_create("cxlemu-line-states", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return cx_fail(e, err, "media %s: cannot make its line states "
			       "(%llu bytes): %s", m->name,
			       (unsigned long long)len, strerror(err));
	}
	struct line_state *s = cx_xcalloc(1, sizeof(*s));
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->fd = fd;
	s->len = len;
	s->next = states;
	states = s;
	*out = s;
	return 0;
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
	struct cx_dax_recipe rc;
	struct cx_media *seen[CX_PROTO_MAX_FDS];
	int nseen = 0, err;
	int pid = 0;

	if ((err = cx_srv_dax_device(c, &r, e)) ||
	    (err = cx_proto_get_int(c->req, "pid", false, &pid, e)) ||
	    (err = cx_region_dax_recipe(r, &rc, e)) ||
	    (err = get_registry(e)) ||
	    (err = hand_over(c, registry_fd, "registry", e)))
		goto fail;
	struct json_object *lens = json_object_new_array();
	for (int j = 0; j < rc.ilv.ways; j++) {
		struct cx_media *m = rc.ent[j].media;
		if (cx_srv_media_index(seen, nseen, m) >= 0)
			continue;
		struct line_state *s = NULL;
		if ((err = state_of(m, &s, e)) ||
		    (err = hand_over(c, s->fd, m->name, e))) {
			json_object_put(lens);
			goto fail;
		}
		seen[nseen++] = m;
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
	return 0;
fail:
	for (int i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
	return err;
}
