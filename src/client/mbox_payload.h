/*
 * mbox_payload.h - the input payloads of the device-management commands
 * a client sends (what Linux builds for ndctl), and the outputs it reads
 * back, built and read in one place: the command line's memdev verbs use
 * them, and so can any other client (the preload library, `cxlemu fm`).
 *
 * Pure functions over spec/mbox.h's layouts; nothing here talks to the
 * daemon (cx_mbox_ccall in mbox_client.h sends what these build).  Each
 * builder clears and fills `in` and returns the payload's length.
 */
#ifndef CXLEMU_MBOX_PAYLOAD_H
#define CXLEMU_MBOX_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/mbox.h"

/* The most data one Get LSA returns, one Set LSA or Transfer FW carries. */
#define CX_PL_GET_LSA_MAX   CX_MBOX_PAYLOAD_MAX
#define CX_PL_SET_LSA_MAX   (CX_MBOX_PAYLOAD_MAX - CX_SLSA_HDR_LEN)
#define CX_PL_FW_PART_MAX   (CX_MBOX_PAYLOAD_MAX - CX_TFW_HDR_LEN)

/* Set Partition Info: the volatile part in bytes (a multiple of
 * CX_CAPACITY_UNIT), now (immediate) or at the next reset. */
size_t cx_pl_set_partition(uint8_t in[CX_SPI_IN_LEN], uint64_t volatile_bytes,
			   bool immediate);
/* Get LSA: `length` bytes at `offset` of the label storage area. */
size_t cx_pl_get_lsa(uint8_t in[CX_GLSA_IN_LEN], uint32_t offset,
		     uint32_t length);
/* Set LSA: len bytes (at most CX_PL_SET_LSA_MAX) of data, or zeros when
 * data is NULL, at `offset`. */
size_t cx_pl_set_lsa(uint8_t in[CX_MBOX_PAYLOAD_MAX], uint32_t offset,
		     const void *data, size_t len);
/* Transfer FW: one part (action CX_TFW_FULL, INIT, CONTINUE, END or
 * ABORT) of len bytes (at most CX_PL_FW_PART_MAX) at byte `offset` of the
 * image (a multiple of CX_TFW_UNIT), for `slot` (FULL and END). */
size_t cx_pl_transfer_fw(uint8_t in[CX_MBOX_PAYLOAD_MAX], uint8_t action,
			 uint8_t slot, uint64_t offset, const void *data,
			 size_t len);
/* Activate FW: `slot`, online or at the next cold reset. */
size_t cx_pl_activate_fw(uint8_t in[CX_AFW_IN_LEN], bool online,
			 uint8_t slot);

/* Set Alert Configuration: the alerts (CX_ALERT_LIFE_USED ...
 * CX_ALERT_COR_PERSISTENT) in `valid` are set; those also in `enable` are
 * turned on with their thresholds. */
struct cx_alert_config {
	uint8_t valid, enable;
	uint8_t life_used;             /* percent */
	int16_t over_temp, under_temp; /* degrees Celsius */
	uint16_t cor_vol, cor_per;     /* corrected error counts */
};
size_t cx_pl_set_alert_config(uint8_t in[CX_SAC_IN_LEN],
			      const struct cx_alert_config *a);

/* Background Operation Status's output; -EPROTO when n is too short. */
struct cx_bg_status {
	bool running;
	unsigned percent;
	uint16_t opcode, rc;
};
int cx_pl_bg_status(const uint8_t *out, size_t n, struct cx_bg_status *s);

/* Identify Memory Device's capacities, in bytes; -EPROTO when short. */
struct cx_identify {
	uint64_t total, volatile_only, persistent_only, partition_align;
	uint32_t lsa_size;
};
int cx_pl_identify(const uint8_t *out, size_t n, struct cx_identify *id);

#endif
