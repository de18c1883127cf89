/*
 * mbox.c - the few constant tables and pure functions behind spec/mbox.h:
 * return-code names, the log and event-record UUIDs in wire order, and
 * the CDAT checksum and HMAT value encoding.
 */
#include "mbox.h"

const uint8_t cx_cel_uuid[16] = {
	0x0d, 0xa9, 0xc0, 0xb5, 0xbf, 0x41, 0x4b, 0x78,
	0x8f, 0x79, 0x96, 0xb1, 0x62, 0x3b, 0x3f, 0x17,
};
const uint8_t cx_event_uuid_general_media[16] = {
	0xfb, 0xcd, 0x0a, 0x77, 0xc2, 0x60, 0x41, 0x7f,
	0x85, 0xa9, 0x08, 0x8b, 0x16, 0x21, 0xeb, 0xa6,
};
const uint8_t cx_event_uuid_dram[16] = {
	0x60, 0x1d, 0xcb, 0xb3, 0x9c, 0x06, 0x4e, 0xab,
	0xb8, 0xaf, 0x4e, 0x9b, 0xfb, 0x5c, 0x96, 0x24,
};
const uint8_t cx_event_uuid_memory_module[16] = {
	0xfe, 0x92, 0x74, 0x75, 0xdd, 0x59, 0x43, 0x39,
	0xa5, 0x86, 0x79, 0xba, 0xb1, 0x13, 0xb7, 0x74,
};

/* ca95afa7-f183-4018-8c2f-95268e101a2a */
const uint8_t cx_event_uuid_dynamic_capacity[16] = {
	0xca, 0x95, 0xaf, 0xa7, 0xf1, 0x83, 0x40, 0x18,
	0x8c, 0x2f, 0x95, 0x26, 0x8e, 0x10, 0x1a, 0x2a,
};

static const char *const rc_names[] = {
	[CX_RC_SUCCESS] = "success",
	[CX_RC_BG_STARTED] = "background command started",
	[CX_RC_INVALID_INPUT] = "invalid input",
	[CX_RC_UNSUPPORTED] = "unsupported",
	[CX_RC_INTERNAL] = "internal error",
	[CX_RC_RETRY] = "retry required",
	[CX_RC_BUSY] = "busy",
	[CX_RC_MEDIA_DISABLED] = "media disabled",
	[CX_RC_FW_IN_PROGRESS] = "FW transfer in progress",
	[CX_RC_FW_OUT_OF_ORDER] = "FW transfer out of order",
	[CX_RC_FW_AUTH_FAILED] = "FW verification failed",
	[CX_RC_FW_INVALID_SLOT] = "invalid slot",
	[CX_RC_FW_ROLLED_BACK] = "activation failed, FW rolled back",
	[CX_RC_FW_RESET_REQUIRED] = "activation failed, cold reset required",
	[CX_RC_INVALID_HANDLE] = "invalid handle",
	[CX_RC_INVALID_PA] = "invalid physical address",
	[CX_RC_INJECT_POISON_LIMIT] = "inject poison limit reached",
	[CX_RC_MEDIA_FAILURE] = "permanent media failure",
	[CX_RC_ABORTED] = "aborted",
	[CX_RC_INVALID_SECURITY_STATE] = "invalid security state",
	[CX_RC_INCORRECT_PASSPHRASE] = "incorrect passphrase",
	[CX_RC_UNSUPPORTED_MAILBOX] = "unsupported mailbox or CCI",
	[CX_RC_INVALID_PAYLOAD_LENGTH] = "invalid payload length",
	[CX_RC_INVALID_LOG] = "invalid log",
	[CX_RC_INTERRUPTED] = "interrupted",
	[CX_RC_FEATURE_VERSION] = "unsupported feature version",
	[CX_RC_FEATURE_SELECTION] = "unsupported feature selection value",
	[CX_RC_FEATURE_TRANSFER_IN_PROGRESS] = "feature transfer in progress",
	[CX_RC_FEATURE_TRANSFER_OUT_OF_ORDER] = "feature transfer out of order",
	[CX_RC_RESOURCES_EXHAUSTED] = "resources exhausted",
	[CX_RC_INVALID_EXTENT_LIST] = "invalid extent list",
	[CX_RC_TRANSFER_OUT_OF_ORDER] = "transfer out of order",
	[CX_RC_ABORT_NOT_SUPPORTED] = "request abort not supported",
};

const char *cx_mbox_rc_name(uint16_t rc)
{
	if (rc < sizeof(rc_names) / sizeof(rc_names[0]) && rc_names[rc])
		return rc_names[rc];
	return "unknown return code";
}

uint8_t cx_cdat_sum(const uint8_t *buf, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + buf[i]);
	return s;
}

uint16_t cx_hmat_encode(uint64_t value, uint64_t min_base, uint64_t *base)
{
	uint64_t b = min_base ? min_base : 1;

	/* prefer an exact encoding at the smallest base that fits */
	while (value / b > 0xfffe)
		b *= 10;
	*base = b;
	return (uint16_t)((value + b / 2) / b);
}
