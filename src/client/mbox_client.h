/*
 * mbox_client.h - send one raw command to a memdev's primary mailbox
 * through the daemon (the "mbox" request of server/ops_mbox.c).
 *
 * Used by the command line (`cxlemu mbox` and the ndctl-style memdev
 * verbs) and by the preload library, which answers the mailbox ioctls of
 * /dev/cxl/memN with it.
 */
#ifndef CXLEMU_MBOX_CLIENT_H
#define CXLEMU_MBOX_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "cxlemu/cxlemu.h"

/*
 * Send `opcode` with in_len bytes of input to `memdev` ("memN" or the
 * device's id=).  On return *rc is the CXL return code and the output
 * payload is in `out` (up to *out_len bytes: pass its capacity; *out_len
 * becomes the length the device returned, which may exceed what was
 * copied).  out and out_len may be NULL.  Returns 0 when the mailbox took
 * the command, whatever its return code, or a negative errno with err
 * saying why (no daemon, no such memdev).  When the device is busy,
 * err->msg says what holds it (and is empty otherwise).
 */
int cx_mbox_ccall(struct cxlemu *c, const char *memdev, uint16_t opcode,
		  const void *in, size_t in_len, uint8_t *out,
		  size_t *out_len, uint16_t *rc, struct cxlemu_err *err);

/*
 * The binary frame under cxlemu_mbox(): memdev is N of memN; `text` gets
 * what holds a busy device, or the refusal.  -EPROTONOSUPPORT when the
 * connection does not take binary frames (cx_client_binary false: the
 * administrative socket, or a daemon older than protocol 2).
 */
#include "util/util.h"
#include <stdbool.h>
bool cx_client_binary(const struct cxlemu *c);
int cx_client_mbox(struct cxlemu *c, unsigned memdev, uint16_t opcode,
		   const void *in, size_t in_len, void *out, size_t *out_len,
		   uint16_t *rc, char *text, size_t text_cap, cx_err *e);

#endif
