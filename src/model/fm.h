/*
 * fm.h - the FM-API endpoint of a device (CXL r3.1 §7.6.7): what a fabric
 * manager asks a multi-headed, dynamic capacity device.  One table row per
 * command (fm.c), as the mailbox's; the device side of each (dcd.c).
 *
 * A device here is every head of one struct cx_mbox_device (model/mbox.h):
 * the FM names a head by its host ID (the head's LD id: the order in which
 * the heads were declared, host by host).  cx_fm_exec() runs one command,
 * cx_fm_message() one whole CCI message (spec/cci.h), answering malformed
 * ones with the return code the specification gives them.  Every refusal
 * also comes with a sentence naming the object, the value and the rule.
 */
#ifndef CXLEMU_MODEL_FM_H
#define CXLEMU_MODEL_FM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/mbox.h"
#include "spec/cci.h"

#define CX_FM_PAYLOAD_MAX CX_MBOX_PAYLOAD_MAX  /* 2048 B, either way */
#define CX_FM_WHY_MAX     512

/* What the device cannot know by itself: whether capacity is in use by
 * a program of its host (the daemon knows its mappings). */
struct cx_fm_hooks {
	cx_dcd_in_use_fn *in_use;
	void *ctx;
};

typedef uint16_t cx_fm_handler(struct cx_mbox_device *dev,
			       struct cx_memdev *m, const uint8_t *in,
			       size_t in_len, uint8_t *out, size_t *out_len,
			       const struct cx_fm_hooks *hooks, char *why,
			       size_t wl);

enum {
	CX_FM_F_DCD = 1 << 0,   /* only on a device with dynamic capacity */
};

struct cx_fm_cmd_info {
	uint16_t opcode;
	const char *name;
	int in_len;             /* exact, or CX_MBOX_VAR */
	int in_min;             /* CX_MBOX_VAR: the shortest valid input */
	unsigned flags;         /* CX_FM_F_* */
	cx_fm_handler *handler;
	const char *verb;       /* `cxlemu fm VERB` */
};
int cx_fm_commands(const struct cx_fm_cmd_info **out);
const char *cx_fm_opcode_name(uint16_t opcode);  /* NULL if unknown */

/*
 * Run one FM-API command on the device memdev `m` is a head of.  `out`
 * has room for CX_FM_PAYLOAD_MAX; *out_len gets the output length, *rc
 * the return code, `why` (CX_FM_WHY_MAX) the sentence.  Returns -EINVAL
 * for a memdev without device state, 0 otherwise.
 */
int cx_fm_exec(struct cx_memdev *m, uint16_t opcode, const void *in,
	       size_t in_len, void *out, size_t *out_len, uint16_t *rc,
	       const struct cx_fm_hooks *hooks, char *why, size_t wl);

/*
 * One CCI request message in (header + payload), its response out: the
 * same tag and opcode, category response, the return code and the
 * output payload.  A malformed request gets a response too: shorter than
 * the header or with a payload length that is not what follows it,
 * Invalid Payload Length; a category other than request, Invalid Input;
 * an opcode the device does not have, Unsupported.  Returns the response
 * length (at least CX_CCI_HDR_LEN when room allows).
 */
size_t cx_fm_message(struct cx_memdev *m, const uint8_t *req, size_t len,
		     uint8_t *rsp, size_t room,
		     const struct cx_fm_hooks *hooks, char *why, size_t wl);

/* The devices of a fabric an FM can address: the first head of each
 * device (memdevs whose media make them one device count once), in
 * topology order.  Returns the count; *out is malloc'ed (free it). */
int cx_fm_devices(struct cx_fabric *f, struct cx_memdev ***out);

/*
 * One frame of the FM endpoint (README "The fabric manager endpoint"):
 * the MCTP-style prefix (destination endpoint id, message type 7h FM-API)
 * and a CCI message.  Device i of cx_fm_devices() is endpoint id
 * CX_FM_EID_BASE + i.  The response frame carries the device's endpoint id
 * and type 7h.  A frame shorter than the prefix, an endpoint id no device
 * has or a message type other than FM-API is answered too, with a CCI
 * response of its own (Invalid Payload Length, Invalid Input,
 * Unsupported Mailbox or CCI) that says which.  Returns the response
 * length; rsp needs CX_MCTP_PREFIX_LEN + CX_CCI_HDR_LEN +
 * CX_FM_PAYLOAD_MAX bytes.
 */
#define CX_FM_EID_BASE 8          /* MCTP reserves 0-7 */
#define CX_FM_FRAME_MAX (CX_MCTP_PREFIX_LEN + CX_CCI_HDR_LEN + \
			 CX_FM_PAYLOAD_MAX)
size_t cx_fm_frame(struct cx_fabric *f, const uint8_t *req, size_t len,
		   uint8_t *rsp, size_t room, const struct cx_fm_hooks *hooks,
		   char *why, size_t wl);

#endif
