/*
 * region_view.h - a committed interleaved region's bytes in HPA order, in
 * one memfd, so that a program maps the whole region in one mmap at any
 * granularity.
 *
 * The view's byte at region offset o is the byte the decoders send o to:
 * slot j = cx_ilv_slot of o's granule (model/dax.h), byte adv of that
 * slot's DPA range, adv = (o / gran / ways) * gran + o % gran.  While a
 * view exists, those DPA ranges' bytes live in it, not in the devices'
 * stores: each slot's range is an overlay on its media (media.h), so the
 * daemon's accesses by device offset (mailbox, poison, sanitize, media
 * operations) reach them through the stride, and the region's exact path
 * is one memcpy on the view.  The host's grant is lent as the view: one
 * descriptor, one mapping.
 *
 * A view is built the first time a program maps the region (dax-map),
 * copying the data already in the media into it.  Over a share=on file
 * it is a working copy: the file keeps its bytes in DPA order and gets
 * the view's whenever the media's write-backs and flushes run (the
 * overlay's write-back, media.h) and when the view is taken apart.
 * Regions of several hosts that send every offset to the same device
 * byte (the same ways, granularity, devices and DPAs at each position,
 * XOR maps that agree at both HPAs) share one view; it is taken apart
 * when the last of them has its grant end or change (destroy, decommit,
 * disable, system-ram, unbind: cx_fabric_reclaim) and when the fabric
 * stops: its bytes go back to the devices' stores and the memfd is
 * emptied, so a program still mapping it faults with SIGBUS, as with any
 * block taken back.  Where a view cannot hold the bytes the region keeps
 * the per-block path and the reason is given (cx_region_view).
 */
#ifndef CXLEMU_REGION_VIEW_H
#define CXLEMU_REGION_VIEW_H

#include "model/grant.h"

struct cx_rview;

/* The region's view, built if need be: 0 with *out set; or 0 with *out
 * NULL and `why` saying in one line why the region falls back to blocks;
 * never a failure (a view that cannot be built is a fallback too). */
int cx_region_view(struct cx_fabric *f, struct cx_region *r,
		   struct cx_rview **out, char *why, size_t whylen);
/* The view's descriptor (borrowed), its size, and the daemon's mapping
 * of it. */
int cx_rview_fd(const struct cx_rview *v);
uint64_t cx_rview_size(const struct cx_rview *v);
uint8_t *cx_rview_map(const struct cx_rview *v);
/* A number no other view of this process had (keys per-block state). */
uint64_t cx_rview_serial(const struct cx_rview *v);
/* Regions using the view (one per host sharing it). */
int cx_rview_users(const struct cx_rview *v);
/* The exact path wrote [off, off+len) of the view: the bytes of share=on
 * files among them go to the files at once (call under a media guard). */
void cx_rview_written(struct cx_rview *v, uint64_t off, uint64_t len);
/* Write every slot of r's view (if it has one over share=on files) back
 * to its file now, each slot under its own guard: 0, or the first slot's
 * error naming the device, the file, the DPAs and why (the others are
 * written all the same). */
int cx_region_view_write_back(struct cx_region *r, cx_err *e);
/* Take apart every view whose region's grant ended or changed (all of
 * them with `all`); returns how many, or the first error of a view whose
 * bytes could not all be written back: that view is kept, holding them,
 * and tried again at the next settle (at stop, `all`, each failure is
 * told on stderr and its memfd left whole for whoever maps it). */
int cx_fabric_views_settle(struct cx_fabric *f, bool all, cx_err *e);
/* Views standing (for tests and listings). */
int cx_fabric_views(const struct cx_fabric *f);

#endif
