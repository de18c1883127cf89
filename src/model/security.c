/*
 * security.c - the persistent memory security command set (45xxh): Get
 * Security State, Set and Disable Passphrase, Unlock, Freeze Security
 * State and Passphrase Secure Erase.
 *
 * Master and user passphrases follow the same rules: a wrong one counts
 * a try, and CX_PASS_TRY_LIMIT tries block that passphrase until a
 * reset.  A set user passphrase locks the persistent capacity at reset
 * until Unlock; freezing refuses every change until a reset.
 */
#include "mbox.h"

#include <string.h>

/* ---- 45xxh persistent memory security ---- */

uint16_t cx_cmd_get_security(struct cx_memdev *m, struct cx_mbox_state *st,
			     const uint8_t *in, size_t in_len,
			     uint8_t *out, size_t *out_len)
{
	cx_wr_le32(out, st->sec_state);
	*out_len = CX_SEC_STATE_LEN;
	return CX_RC_SUCCESS;
}

/* A wrong passphrase counts toward the retry limit. */
/*
 * The two passphrases (master and user) follow the same rules; a slot is
 * one of them: its bytes, its failed-try count and its two state bits.
 */
struct pass_slot {
	uint8_t *pass;
	int *tries;
	uint32_t set, plimit;
};

static struct pass_slot pass_slot(struct cx_mbox_state *st, bool master)
{
	if (master)
		return (struct pass_slot){ st->master_pass, &st->master_tries,
					   CX_SEC_MASTER_SET,
					   CX_SEC_MASTER_PLIMIT };
	return (struct pass_slot){ st->user_pass, &st->user_tries,
				   CX_SEC_USER_SET, CX_SEC_USER_PLIMIT };
}

/* The slot a command's passphrase type byte names; false for neither. */
static bool pass_slot_of(struct cx_mbox_state *st, uint8_t type,
			 struct pass_slot *ps)
{
	if (type != CX_PASS_MASTER && type != CX_PASS_USER)
		return false;
	*ps = pass_slot(st, type == CX_PASS_MASTER);
	return true;
}

/* Compare `given` with the slot: a match clears the try count; a mismatch
 * counts a try and, at the limit, blocks the slot. */
static uint16_t pass_check(struct cx_mbox_state *st, const struct pass_slot *ps,
			   const uint8_t *given)
{
	if (memcmp(given, ps->pass, CX_PASSPHRASE_LEN)) {
		if (++*ps->tries >= CX_PASS_TRY_LIMIT)
			st->sec_state |= ps->plimit;
		return CX_RC_INCORRECT_PASSPHRASE;
	}
	*ps->tries = 0;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_set_passphrase(struct cx_memdev *m,
			       struct cx_mbox_state *st, const uint8_t *in,
			       size_t in_len, uint8_t *out,
			       size_t *out_len)
{
	uint8_t type = in[CX_SETP_TYPE];
	const uint8_t *cur = in + CX_SETP_CURRENT, *nw = in + CX_SETP_NEW;
	struct pass_slot ps;
	uint16_t rc;

	if (!pass_slot_of(st, type, &ps))
		return CX_RC_INVALID_INPUT;
	if (st->sec_state & (CX_SEC_FROZEN | CX_SEC_LOCKED | ps.plimit))
		return CX_RC_INVALID_SECURITY_STATE;
	/* the master passphrase is only set while security is disabled
	 * (no user passphrase) */
	if (type == CX_PASS_MASTER && (st->sec_state & CX_SEC_USER_SET))
		return CX_RC_INVALID_SECURITY_STATE;
	if ((st->sec_state & ps.set) && (rc = pass_check(st, &ps, cur)))
		return rc;
	memcpy(ps.pass, nw, CX_PASSPHRASE_LEN);
	*ps.tries = 0;
	st->sec_state |= ps.set;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_disable_passphrase(struct cx_memdev *m,
				   struct cx_mbox_state *st,
				   const uint8_t *in, size_t in_len,
				   uint8_t *out, size_t *out_len)
{
	uint8_t type = in[CX_DISP_TYPE];
	struct pass_slot ps;
	uint16_t rc;

	if (!pass_slot_of(st, type, &ps))
		return CX_RC_INVALID_INPUT;
	if ((st->sec_state & (CX_SEC_FROZEN | ps.plimit)) ||
	    !(st->sec_state & ps.set))
		return CX_RC_INVALID_SECURITY_STATE;
	if ((rc = pass_check(st, &ps, in + CX_DISP_CURRENT)))
		return rc;
	memset(ps.pass, 0, CX_PASSPHRASE_LEN);
	/* without a user passphrase the device cannot stay locked */
	st->sec_state &= ~(ps.set | (type == CX_PASS_USER ? CX_SEC_LOCKED : 0));
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_unlock(struct cx_memdev *m, struct cx_mbox_state *st,
		       const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t *out_len)
{
	struct pass_slot ps = pass_slot(st, false);
	uint16_t rc;

	if ((st->sec_state & (CX_SEC_FROZEN | ps.plimit)) ||
	    !(st->sec_state & ps.set) || !(st->sec_state & CX_SEC_LOCKED))
		return CX_RC_INVALID_SECURITY_STATE;
	if ((rc = pass_check(st, &ps, in)))
		return rc;
	st->sec_state &= ~CX_SEC_LOCKED;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_freeze(struct cx_memdev *m, struct cx_mbox_state *st,
		       const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t *out_len)
{
	st->sec_state |= CX_SEC_FROZEN;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_passphrase_erase(struct cx_memdev *m,
				 struct cx_mbox_state *st,
				 const uint8_t *in, size_t in_len,
				 uint8_t *out, size_t *out_len)
{
	uint8_t type = in[CX_DISP_TYPE];
	struct pass_slot ps;
	uint16_t rc;

	if (!pass_slot_of(st, type, &ps))
		return CX_RC_INVALID_INPUT;
	if (st->sec_state & (CX_SEC_FROZEN | ps.plimit))
		return CX_RC_INVALID_SECURITY_STATE;
	/* with the master passphrase disabled this erase is invalid
	 * (r3.0 §8.2.9.8.6.3) */
	if (type == CX_PASS_MASTER && !(st->sec_state & ps.set))
		return CX_RC_INVALID_INPUT;
	if (cx_mbox_media_in_use(st))
		return CX_RC_BUSY;
	/* the user erase with no user passphrase set needs none */
	if ((st->sec_state & ps.set) &&
	    (rc = pass_check(st, &ps, in + CX_DISP_CURRENT)))
		return rc;
	/* erasing removes the user passphrase and unlocks */
	memset(st->user_pass, 0, CX_PASSPHRASE_LEN);
	st->user_tries = 0;
	st->sec_state &= ~(CX_SEC_USER_SET | CX_SEC_LOCKED);
	cx_mbox_erase_media(m, st);
	return CX_RC_SUCCESS;
}
