/*
 * mbox.h - the memory device command interface as the CXL specification
 * (r3.1, §8.2.9) lays it out: opcodes, return codes, command effects, and
 * the byte layout of every payload the model speaks, plus the CDAT
 * structures (CDAT r1.03) a Type 3 device reports.
 *
 * Constants and pure functions only.  Every payload field is named here
 * once, as a byte offset (and, where it matters, a size), and is read or
 * written through the little-endian helpers below: a handler never casts
 * a payload to a struct.
 */
#ifndef CXLEMU_SPEC_MBOX_H
#define CXLEMU_SPEC_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- little-endian payload access ---- */
static inline uint16_t cx_rd_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t cx_rd_le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}
static inline uint32_t cx_rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t cx_rd_le64(const uint8_t *p)
{
	return (uint64_t)cx_rd_le32(p) | (uint64_t)cx_rd_le32(p + 4) << 32;
}
static inline void cx_wr_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void cx_wr_le24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}
static inline void cx_wr_le32(uint8_t *p, uint32_t v)
{
	cx_wr_le16(p, (uint16_t)v);
	cx_wr_le16(p + 2, (uint16_t)(v >> 16));
}
static inline void cx_wr_le64(uint8_t *p, uint64_t v)
{
	cx_wr_le32(p, (uint32_t)v);
	cx_wr_le32(p + 4, (uint32_t)(v >> 32));
}

/* ---- mailbox geometry (§8.2.8.4) ---- */
#define CX_MBOX_PAYLOAD_LOG2   11
#define CX_MBOX_PAYLOAD_MAX    (1u << CX_MBOX_PAYLOAD_LOG2)  /* 2048 B */
#define CX_CAPACITY_UNIT       (256ULL << 20)  /* capacities: 256 MiB units */
#define CX_CACHELINE           64ULL           /* poison granule */

/* ---- return codes (§8.2.8.4.5.1, Table 8-34) ---- */
enum cx_mbox_rc {
	CX_RC_SUCCESS = 0x00,
	CX_RC_BG_STARTED = 0x01,
	CX_RC_INVALID_INPUT = 0x02,
	CX_RC_UNSUPPORTED = 0x03,
	CX_RC_INTERNAL = 0x04,
	CX_RC_RETRY = 0x05,
	CX_RC_BUSY = 0x06,
	CX_RC_MEDIA_DISABLED = 0x07,
	CX_RC_FW_IN_PROGRESS = 0x08,
	CX_RC_FW_OUT_OF_ORDER = 0x09,
	CX_RC_FW_AUTH_FAILED = 0x0a,
	CX_RC_FW_INVALID_SLOT = 0x0b,
	CX_RC_FW_ROLLED_BACK = 0x0c,
	CX_RC_FW_RESET_REQUIRED = 0x0d,
	CX_RC_INVALID_HANDLE = 0x0e,
	CX_RC_INVALID_PA = 0x0f,
	CX_RC_INJECT_POISON_LIMIT = 0x10,
	CX_RC_MEDIA_FAILURE = 0x11,
	CX_RC_ABORTED = 0x12,
	CX_RC_INVALID_SECURITY_STATE = 0x13,
	CX_RC_INCORRECT_PASSPHRASE = 0x14,
	CX_RC_UNSUPPORTED_MAILBOX = 0x15,
	CX_RC_INVALID_PAYLOAD_LENGTH = 0x16,
	CX_RC_INVALID_LOG = 0x17,
	CX_RC_INTERRUPTED = 0x18,
	CX_RC_FEATURE_VERSION = 0x19,
	CX_RC_FEATURE_SELECTION = 0x1a,
	CX_RC_FEATURE_TRANSFER_IN_PROGRESS = 0x1b,
	CX_RC_FEATURE_TRANSFER_OUT_OF_ORDER = 0x1c,
	CX_RC_RESOURCES_EXHAUSTED = 0x1d,
	CX_RC_INVALID_EXTENT_LIST = 0x1e,
	CX_RC_TRANSFER_OUT_OF_ORDER = 0x1f,
	CX_RC_ABORT_NOT_SUPPORTED = 0x20,
};
/* A short English name for a return code ("invalid payload length"). */
const char *cx_mbox_rc_name(uint16_t rc);

/* ---- opcodes: command set << 8 | command (§8.2.9, Table 8-37) ---- */
enum cx_mbox_opcode {
	CX_OP_BG_OP_STATUS = 0x0002,
	CX_OP_BG_OP_ABORT = 0x0005,
	CX_OP_GET_EVENT_RECORDS = 0x0100,
	CX_OP_CLEAR_EVENT_RECORDS = 0x0101,
	CX_OP_GET_EVENT_INT_POLICY = 0x0102,
	CX_OP_SET_EVENT_INT_POLICY = 0x0103,
	CX_OP_GET_FW_INFO = 0x0200,
	CX_OP_TRANSFER_FW = 0x0201,
	CX_OP_ACTIVATE_FW = 0x0202,
	CX_OP_GET_TIMESTAMP = 0x0300,
	CX_OP_SET_TIMESTAMP = 0x0301,
	CX_OP_GET_SUPPORTED_LOGS = 0x0400,
	CX_OP_GET_LOG = 0x0401,
	CX_OP_IDENTIFY_MEMDEV = 0x4000,
	CX_OP_GET_PARTITION_INFO = 0x4100,
	CX_OP_SET_PARTITION_INFO = 0x4101,
	CX_OP_GET_LSA = 0x4102,
	CX_OP_SET_LSA = 0x4103,
	CX_OP_GET_HEALTH_INFO = 0x4200,
	CX_OP_GET_ALERT_CONFIG = 0x4201,
	CX_OP_SET_ALERT_CONFIG = 0x4202,
	CX_OP_GET_SHUTDOWN_STATE = 0x4203,
	CX_OP_SET_SHUTDOWN_STATE = 0x4204,
	CX_OP_GET_POISON_LIST = 0x4300,
	CX_OP_INJECT_POISON = 0x4301,
	CX_OP_CLEAR_POISON = 0x4302,
	CX_OP_GET_SCAN_MEDIA_CAPS = 0x4303,
	CX_OP_SCAN_MEDIA = 0x4304,
	CX_OP_GET_SCAN_MEDIA_RESULTS = 0x4305,
	CX_OP_SANITIZE = 0x4400,
	CX_OP_SECURE_ERASE = 0x4401,
	CX_OP_MEDIA_OPERATIONS = 0x4402,
	CX_OP_GET_SECURITY_STATE = 0x4500,
	CX_OP_SET_PASSPHRASE = 0x4501,
	CX_OP_DISABLE_PASSPHRASE = 0x4502,
	CX_OP_UNLOCK = 0x4503,
	CX_OP_FREEZE_SECURITY = 0x4504,
	CX_OP_PASSPHRASE_SECURE_ERASE = 0x4505,
	CX_OP_GET_DC_CONFIG = 0x4800,
	CX_OP_GET_DC_EXTENT_LIST = 0x4801,
	CX_OP_ADD_DC_RESPONSE = 0x4802,
	CX_OP_RELEASE_DC = 0x4803,
};

/* ---- Command Effects Log entry effects (§8.2.9.5.2.1, Table 8-75) ---- */
#define CX_EFFECT_CONFIG_CHANGE_COLD_RESET (1u << 0)
#define CX_EFFECT_IMMEDIATE_CONFIG_CHANGE  (1u << 1)
#define CX_EFFECT_IMMEDIATE_DATA_CHANGE    (1u << 2)
#define CX_EFFECT_IMMEDIATE_POLICY_CHANGE  (1u << 3)
#define CX_EFFECT_IMMEDIATE_LOG_CHANGE     (1u << 4)
#define CX_EFFECT_SECURITY_STATE_CHANGE    (1u << 5)
#define CX_EFFECT_BACKGROUND_OP            (1u << 6)
#define CX_EFFECT_SECONDARY_MBOX           (1u << 7)
#define CX_EFFECT_ABORT_SUPPORTED          (1u << 8)

#define CX_CEL_ENTRY_SIZE      4
#define CX_CEL_OPCODE          0x00   /* u16 */
#define CX_CEL_EFFECT          0x02   /* u16 */
/* CEL UUID 0da9c0b5-bf41-4b78-8f79-96b1623b3f17, in wire (RFC) order */
extern const uint8_t cx_cel_uuid[16];

/* ---- 0002h Background Operation Status: out 8 (§8.2.9.1.2) ---- */
#define CX_BGS_OUT_LEN         8
#define CX_BGS_STATUS          0x00   /* [0] running, [7:1] percent */
#define CX_BGS_OPCODE          0x02   /* u16 */
#define CX_BGS_RC              0x04   /* u16 */
#define CX_BGS_VENDOR          0x06   /* u16 */

/* ---- 0100h Get Event Records (§8.2.9.2.2) ---- */
enum cx_event_log {
	CX_EVLOG_INFO = 0,
	CX_EVLOG_WARN = 1,
	CX_EVLOG_FAIL = 2,
	CX_EVLOG_FATAL = 3,
	CX_EVLOG_DCD = 4,
	CX_EVLOG_COUNT = 5,
};
#define CX_GER_IN_LEN          1      /* event log type */
#define CX_GER_FLAGS           0x00
#define   CX_GER_FLAG_OVERFLOW (1u << 0)
#define   CX_GER_FLAG_MORE     (1u << 1)
#define CX_GER_OVERFLOW_COUNT  0x02   /* u16 */
#define CX_GER_FIRST_OVERFLOW  0x04   /* u64 timestamp */
#define CX_GER_LAST_OVERFLOW   0x0c   /* u64 timestamp */
#define CX_GER_RECORD_COUNT    0x14   /* u16 */
#define CX_GER_RECORDS         0x20
#define CX_EVENT_RECORD_SIZE   0x80

/* Common event record (§8.2.9.2.1, Table 8-42) */
#define CX_EVR_UUID            0x00   /* 16 B */
#define CX_EVR_LENGTH          0x10   /* u8 = 0x80 */
#define CX_EVR_FLAGS           0x11   /* 3 B; [1:0] severity */
/* Event Record Flags [1:0]: severity */
#define CX_EVR_SEV_INFO        0
#define CX_EVR_SEV_WARNING     1
#define CX_EVR_SEV_FAILURE     2
#define CX_EVR_SEV_FATAL       3
#define   CX_EVR_FLAG_PERMANENT     (1u << 2)
#define   CX_EVR_FLAG_MAINT_NEEDED  (1u << 3)
#define   CX_EVR_FLAG_PERF_DEGRADED (1u << 4)
#define   CX_EVR_FLAG_HW_REPLACE    (1u << 5)
#define CX_EVR_HANDLE          0x14   /* u16 */
#define CX_EVR_RELATED_HANDLE  0x16   /* u16 */
#define CX_EVR_TIMESTAMP       0x18   /* u64 */
#define CX_EVR_MAINT_CLASS     0x20   /* u8 */
#define CX_EVR_DATA            0x30   /* 0x50 B of record specific data */

/* Fields the General Media and DRAM event records share, at the same
 * offsets (§8.2.9.2.1.1 Table 8-43, §8.2.9.2.1.2 Table 8-44). */
#define CX_MEV_DPA             0x30   /* u64; [0] volatile, [1] not repairable */
#define CX_MEV_DESCRIPTOR      0x38
#define CX_MEV_TYPE            0x39
#define CX_MEV_TRANSACTION     0x3a
#define CX_MEV_VALIDITY        0x3b   /* u16 */
#define   CX_MEV_VALID_CHANNEL (1u << 0)
#define   CX_MEV_VALID_RANK    (1u << 1)
#define CX_MEV_CHANNEL         0x3d
#define CX_MEV_RANK            0x3e

/* General Media Event Record (§8.2.9.2.1.1, Table 8-43): the CX_MEV_
 * fields, then these. */
extern const uint8_t cx_event_uuid_general_media[16];
#define   CX_GME_DESC_UNCORRECTABLE (1u << 0)   /* in CX_MEV_DESCRIPTOR */
#define   CX_GME_DESC_THRESHOLD     (1u << 1)
#define   CX_GME_DESC_POISON_OVERFLOW (1u << 2)
/* CX_MEV_TYPE: 0 ECC, 1 invalid address, 2 data path */
#define   CX_GME_TRANS_SCAN_MEDIA 3             /* in CX_MEV_TRANSACTION */
#define   CX_GME_VALID_DEVICE  (1u << 2)        /* in CX_MEV_VALIDITY */
#define   CX_GME_VALID_COMPONENT (1u << 3)
#define CX_GME_DEVICE          0x3f   /* u24 */
#define CX_GME_COMPONENT_ID    0x42   /* 16 B */

/* DRAM Event Record (§8.2.9.2.1.2, Table 8-44): the CX_MEV_ fields, then
 * these. */
extern const uint8_t cx_event_uuid_dram[16];
#define   CX_DRAM_VALID_NIBBLE    (1u << 2)     /* in CX_MEV_VALIDITY */
#define   CX_DRAM_VALID_BANK_GROUP (1u << 3)
#define   CX_DRAM_VALID_BANK      (1u << 4)
#define   CX_DRAM_VALID_ROW       (1u << 5)
#define   CX_DRAM_VALID_COLUMN    (1u << 6)
#define   CX_DRAM_VALID_CORRECTION (1u << 7)
#define CX_DRAM_NIBBLE_MASK    0x3f   /* u24 */
#define CX_DRAM_BANK_GROUP     0x42
#define CX_DRAM_BANK           0x43
#define CX_DRAM_ROW            0x44   /* u24 */
#define CX_DRAM_COLUMN         0x47   /* u16 */
#define CX_DRAM_CORRECTION     0x49   /* 4 x u64 */

/* Memory Module Event Record (§8.2.9.2.1.3, Table 8-45) */
extern const uint8_t cx_event_uuid_memory_module[16];
#define CX_MME_TYPE            0x30   /* device event type */
#define CX_MME_HEALTH          0x31   /* Get Health Info output, 0x12 B */

/* ---- 0101h Clear Event Records (§8.2.9.2.3, Table 8-51) ---- */
#define CX_CER_HDR_LEN         6
#define CX_CER_LOG             0x00
#define CX_CER_FLAGS           0x01
#define   CX_CER_FLAG_CLEAR_ALL (1u << 0)
#define CX_CER_NHANDLES        0x02
#define CX_CER_HANDLES         0x06   /* u16 each */

/* ---- 0102h/0103h Event Interrupt Policy (§8.2.9.2.4, Table 8-52) ---- */
#define CX_EIP_LEN             5      /* info, warn, fail, fatal, DCD */
#define CX_EIP_MIN_LEN         4      /* DCD setting optional on Set */
#define CX_EIP_MODE_MASK       0x03   /* 0 none, 1 MSI/MSI-X, 2 FW */
#define CX_EIP_MODE_RESERVED   0x03

/* ---- 0200h Get FW Info: out 0x50 (§8.2.9.3.1, Table 8-56) ---- */
#define CX_FWI_OUT_LEN         0x50
#define CX_FWI_SLOTS           0x00
#define CX_FWI_SLOT_INFO       0x01   /* [2:0] active, [5:3] staged */
#define CX_FWI_ACTIVATION_CAPS 0x02   /* [0] online activation */
#define CX_FWI_REV(slot)       (0x10 + 0x10 * ((slot) - 1))  /* 16 B */
#define CX_FW_REV_LEN          16

/* ---- 0201h Transfer FW (§8.2.9.3.2, Table 8-57) ---- */
#define CX_TFW_HDR_LEN         0x80
#define CX_TFW_ACTION          0x00
#define   CX_TFW_FULL          0
#define   CX_TFW_INIT          1
#define   CX_TFW_CONTINUE      2
#define   CX_TFW_END           3
#define   CX_TFW_ABORT         4
#define CX_TFW_SLOT            0x01
#define CX_TFW_OFFSET          0x04   /* u32, 128-byte units */
#define CX_TFW_DATA            0x80
#define CX_TFW_UNIT            128

/* ---- 0202h Activate FW: in 2 (§8.2.9.3.3, Table 8-58) ---- */
#define CX_AFW_IN_LEN          2
#define CX_AFW_ACTION          0x00   /* 0 online, 1 at next cold reset */
#define CX_AFW_SLOT            0x01

/* ---- 0300h/0301h Timestamp (§8.2.9.4) ---- */
#define CX_TS_LEN              8

/* ---- 0400h Get Supported Logs (§8.2.9.5.1, Table 8-71) ---- */
#define CX_GSL_NENTRIES        0x00   /* u16 */
#define CX_GSL_ENTRIES         0x08
#define CX_GSL_ENTRY_SIZE      0x14
#define CX_GSL_E_UUID          0x00   /* 16 B */
#define CX_GSL_E_SIZE          0x10   /* u32 */

/* ---- 0401h Get Log: in 0x18 (§8.2.9.5.2, Table 8-73) ---- */
#define CX_GLOG_IN_LEN         0x18
#define CX_GLOG_UUID           0x00
#define CX_GLOG_OFFSET         0x10   /* u32 */
#define CX_GLOG_LENGTH         0x14   /* u32 */

/* ---- 4000h Identify Memory Device: out 0x45 (§8.2.9.9.1.1) ---- */
#define CX_ID_OUT_LEN          0x45
#define CX_ID_FW_REV           0x00   /* 16 B ASCII */
#define CX_ID_TOTAL_CAP        0x10   /* u64, 256 MiB units */
#define CX_ID_VOLATILE_CAP     0x18   /* volatile-only */
#define CX_ID_PERSISTENT_CAP   0x20   /* persistent-only */
#define CX_ID_PARTITION_ALIGN  0x28
#define CX_ID_INFO_LOG_SIZE    0x30   /* u16 each */
#define CX_ID_WARN_LOG_SIZE    0x32
#define CX_ID_FAIL_LOG_SIZE    0x34
#define CX_ID_FATAL_LOG_SIZE   0x36
#define CX_ID_LSA_SIZE         0x38   /* u32 */
#define CX_ID_POISON_MAX       0x3c   /* u24 */
#define CX_ID_INJECT_LIMIT     0x3f   /* u16 */
#define CX_ID_POISON_CAPS      0x41
#define CX_ID_QOS_CAPS         0x42
#define CX_ID_DCD_LOG_SIZE     0x43   /* u16 */

/* ---- 4100h Get Partition Info: out 0x20 (§8.2.9.9.2.1) ---- */
#define CX_GPI_OUT_LEN         0x20
#define CX_GPI_ACTIVE_VOLATILE 0x00   /* u64, 256 MiB units */
#define CX_GPI_ACTIVE_PERSISTENT 0x08
#define CX_GPI_NEXT_VOLATILE   0x10
#define CX_GPI_NEXT_PERSISTENT 0x18

/* ---- 4101h Set Partition Info: in 0x0a (§8.2.9.9.2.2) ---- */
#define CX_SPI_IN_LEN          0x0a   /* as the opcode table states */
#define CX_SPI_VOLATILE        0x00   /* u64, 256 MiB units */
#define CX_SPI_FLAGS           0x08
#define   CX_SPI_FLAG_IMMEDIATE (1u << 0)

/* ---- 4102h Get LSA: in 8 / 4103h Set LSA: in 8 + data ---- */
#define CX_GLSA_IN_LEN         8
#define CX_GLSA_OFFSET         0x00   /* u32 */
#define CX_GLSA_LENGTH         0x04   /* u32 */
#define CX_SLSA_HDR_LEN        8
#define CX_SLSA_OFFSET         0x00   /* u32 */
#define CX_SLSA_DATA           0x08

/* ---- 4200h Get Health Info: out 0x12 (§8.2.9.9.3.1, Table 8-148) ---- */
#define CX_HI_OUT_LEN          0x12
#define CX_HI_HEALTH_STATUS    0x00
#define   CX_HS_MAINT_NEEDED   (1u << 0)
#define   CX_HS_PERF_DEGRADED  (1u << 1)
#define   CX_HS_HW_REPLACE     (1u << 2)
#define CX_HI_MEDIA_STATUS     0x01   /* 0 normal .. 9 data loss imminent */
#define   CX_MEDIA_STATUS_MAX  9
#define CX_HI_ADDITIONAL       0x02
#define   CX_HA_LIFE_SHIFT     0      /* [1:0] normal/warning/critical */
#define   CX_HA_TEMP_SHIFT     2      /* [3:2] */
#define   CX_HA_COR_VOLATILE   (1u << 4)
#define   CX_HA_COR_PERSISTENT (1u << 5)
#define   CX_HA_NORMAL         0
#define   CX_HA_WARNING        1
#define   CX_HA_CRITICAL       2
#define CX_HI_LIFE_USED        0x03   /* percent, 0xff = not implemented */
#define CX_HI_TEMPERATURE      0x04   /* s16 degrees C, 0x7fff = unknown */
#define CX_HI_DIRTY_SHUTDOWNS  0x06   /* u32 */
#define CX_HI_COR_VOLATILE     0x0a   /* u32 */
#define CX_HI_COR_PERSISTENT   0x0e   /* u32 */

/* ---- 4201h/4202h Alert Configuration (§8.2.9.9.3.2-3) ---- */
#define CX_ALERT_LIFE_USED     (1u << 0)
#define CX_ALERT_OVER_TEMP     (1u << 1)
#define CX_ALERT_UNDER_TEMP    (1u << 2)
#define CX_ALERT_COR_VOLATILE  (1u << 3)
#define CX_ALERT_COR_PERSISTENT (1u << 4)
#define CX_ALERT_ALL           0x1f
#define CX_GAC_OUT_LEN         0x10
#define CX_GAC_VALID           0x00
#define CX_GAC_PROGRAMMABLE    0x01
#define CX_GAC_LIFE_CRIT       0x02
#define CX_GAC_LIFE_WARN       0x03
#define CX_GAC_OVER_TEMP_CRIT  0x04   /* s16 */
#define CX_GAC_UNDER_TEMP_CRIT 0x06
#define CX_GAC_OVER_TEMP_WARN  0x08
#define CX_GAC_UNDER_TEMP_WARN 0x0a
#define CX_GAC_COR_VOL_WARN    0x0c   /* u16 */
#define CX_GAC_COR_PER_WARN    0x0e
#define CX_SAC_IN_LEN          0x0c
#define CX_SAC_VALID           0x00
#define CX_SAC_ENABLE          0x01
#define CX_SAC_LIFE_WARN       0x02
#define CX_SAC_OVER_TEMP_WARN  0x04
#define CX_SAC_UNDER_TEMP_WARN 0x06
#define CX_SAC_COR_VOL_WARN    0x08
#define CX_SAC_COR_PER_WARN    0x0a

/* ---- 4203h/4204h Shutdown State: 1 byte, [0] dirty ---- */
#define CX_SHUTDOWN_LEN        1
#define CX_SHUTDOWN_DIRTY      (1u << 0)

/* ---- 4300h Get Poison List (§8.2.9.9.4.1) ---- */
#define CX_GPL_IN_LEN          16
#define CX_GPL_DPA             0x00   /* u64, 64 B aligned */
#define CX_GPL_LENGTH          0x08   /* u64, 64 B units */
#define CX_GPL_FLAGS           0x00
#define   CX_GPL_FLAG_MORE     (1u << 0)
#define   CX_GPL_FLAG_OVERFLOW (1u << 1)
#define   CX_GPL_FLAG_SCANNING (1u << 2)
#define CX_GPL_OVERFLOW_TS     0x02   /* u64 */
#define CX_GPL_COUNT           0x0a   /* u16 */
#define CX_GPL_RECORDS         0x20
/* Media error record, shared with Get Scan Media Results */
#define CX_MER_SIZE            16
#define CX_MER_ADDRESS         0x00   /* u64: [63:6] DPA, [2:0] source */
#define CX_MER_LENGTH          0x08   /* u32, 64 B units */
enum cx_poison_source {
	CX_POISON_UNKNOWN = 0,
	CX_POISON_EXTERNAL = 1,
	CX_POISON_INTERNAL = 2,
	CX_POISON_INJECTED = 3,
	CX_POISON_VENDOR = 7,
};
#define CX_POISON_LIST_MAX     256    /* records the device keeps */

/* ---- 4301h Inject Poison: in 8 / 4302h Clear Poison: in 0x48 ---- */
#define CX_IP_IN_LEN           8
#define CX_IP_DPA              0x00
#define CX_CP_IN_LEN           0x48
#define CX_CP_DPA              0x00
#define CX_CP_DATA             0x08   /* 64 B written in place */

/* ---- 4303h Get Scan Media Capabilities: in 16, out 4 ---- */
#define CX_GSMC_IN_LEN         16
#define CX_GSMC_DPA            0x00
#define CX_GSMC_LENGTH         0x08   /* 64 B units */
#define CX_GSMC_OUT_LEN        4
#define CX_GSMC_ESTIMATE_MS    0x00   /* u32 */

/* ---- 4304h Scan Media: in 17 ---- */
#define CX_SM_IN_LEN           17
#define CX_SM_DPA              0x00
#define CX_SM_LENGTH           0x08   /* 64 B units */
#define CX_SM_FLAGS            0x10
#define   CX_SM_FLAG_NO_EVENT_LOG (1u << 0)

/* ---- 4305h Get Scan Media Results (§8.2.9.9.4.6) ---- */
#define CX_SMR_RESTART_DPA     0x00   /* u64 */
#define CX_SMR_RESTART_LEN     0x08   /* u64 */
#define CX_SMR_FLAGS           0x10
#define   CX_SMR_FLAG_MORE     (1u << 0)
#define   CX_SMR_FLAG_STOPPED  (1u << 1)
#define CX_SMR_COUNT           0x12   /* u16 */
#define CX_SMR_RECORDS         0x20

/* ---- 4402h Media Operations (§8.2.9.9.5.3) ---- */
#define CX_MOP_HDR_LEN         8
#define CX_MOP_CLASS           0x00
#define CX_MOP_SUBCLASS        0x01
#define CX_MOP_RANGE_COUNT     0x04   /* u32 */
#define CX_MOP_RANGES          0x08   /* {u64 dpa, u64 length} each */
#define CX_MOP_RANGE_SIZE      16
#define CX_MOP_DISC_START      0x08   /* discovery: u16 start index */
#define CX_MOP_DISC_COUNT      0x0a   /* discovery: u16 number of ops */
#define CX_MOP_DISC_IN_LEN     0x0c
#define CX_MOP_DISC_GRAN       0x00   /* out: u64 range granularity */
#define CX_MOP_DISC_TOTAL      0x08   /* out: u16 */
#define CX_MOP_DISC_RETURNED   0x0a   /* out: u16 */
#define CX_MOP_DISC_ENTRIES    0x0c   /* out: {class, subclass} */
#define CX_MOP_CLASS_GENERAL   0
#define   CX_MOP_GENERAL_DISCOVERY 0
#define CX_MOP_CLASS_SANITIZE  1
#define   CX_MOP_SANITIZE_SANITIZE 0
#define   CX_MOP_SANITIZE_ZERO 1

/* ---- 45xxh Persistent Memory Data-at-rest Security (§8.2.9.9.6) ---- */
#define CX_SEC_STATE_LEN       4
#define   CX_SEC_USER_SET      (1u << 0)
#define   CX_SEC_MASTER_SET    (1u << 1)
#define   CX_SEC_LOCKED        (1u << 2)
#define   CX_SEC_FROZEN        (1u << 3)
#define   CX_SEC_USER_PLIMIT   (1u << 4)
#define   CX_SEC_MASTER_PLIMIT (1u << 5)
#define CX_PASSPHRASE_LEN      32
#define CX_PASS_MASTER         0
#define CX_PASS_USER           1
#define CX_SETP_IN_LEN         0x60
#define CX_SETP_TYPE           0x00
#define CX_SETP_CURRENT        0x20
#define CX_SETP_NEW            0x40
#define CX_DISP_IN_LEN         0x40   /* also Passphrase Secure Erase */
#define CX_DISP_TYPE           0x00
#define CX_DISP_CURRENT        0x20
#define CX_UNLOCK_IN_LEN       0x20

/* ---- 48xxh Dynamic Capacity (§8.2.9.9.9) ---- */
#define CX_DC_MAX_REGIONS      8
#define CX_DC_TAG_LEN          16     /* a tag is a UUID */

/* 4800h Get Dynamic Capacity Configuration: in 2 (Table 8-164) */
#define CX_GDC_IN_LEN          2
#define CX_GDC_REGION_COUNT    0x00   /* regions asked for */
#define CX_GDC_START_REGION    0x01
/* out (Table 8-165): header, a region configuration each, the trailer */
#define CX_GDC_NUM_REGIONS     0x00   /* regions the device has */
#define CX_GDC_RETURNED        0x01
#define CX_GDC_REGIONS         0x08
/* DC Region Configuration, 0x28 bytes */
#define CX_DCR_SIZE            0x28
#define CX_DCR_BASE            0x00   /* u64, DPA */
#define CX_DCR_DECODE_LEN      0x08   /* u64, 256 MiB units */
#define CX_DCR_LEN             0x10   /* u64, bytes */
#define CX_DCR_BLOCK_SIZE      0x18   /* u64, bytes */
#define CX_DCR_DSMAD_HANDLE    0x20   /* u32: its DSMAS in the CDAT */
#define CX_DCR_FLAGS           0x24
#define   CX_DCR_FLAG_SANITIZE_ON_RELEASE (1u << 0)
/* after the regions (r3.1): extents and tags the device tracks */
#define CX_GDC_T_EXTENTS_SUPPORTED 0x00 /* u32 */
#define CX_GDC_T_EXTENTS_AVAILABLE 0x04
#define CX_GDC_T_TAGS_SUPPORTED    0x08
#define CX_GDC_T_TAGS_AVAILABLE    0x0c
#define CX_GDC_TRAILER_LEN         0x10

/* Dynamic Capacity Extent (Table 8-51), 0x28 bytes: in the extent list,
 * in event records and in the FM-API's add and release */
#define CX_DCE_SIZE            0x28
#define CX_DCE_DPA             0x00   /* u64 */
#define CX_DCE_LEN             0x08   /* u64 */
#define CX_DCE_TAG             0x10   /* 16 B */
#define CX_DCE_SHARED_SEQ      0x20   /* u16 */

/* 4801h Get Dynamic Capacity Extent List: in 8 (Table 8-166) */
#define CX_GDEL_IN_LEN         8
#define CX_GDEL_COUNT          0x00   /* u32, extents asked for */
#define CX_GDEL_START          0x04   /* u32, starting extent index */
/* out (Table 8-167) */
#define CX_GDEL_RETURNED       0x00   /* u32 */
#define CX_GDEL_TOTAL          0x04   /* u32 */
#define CX_GDEL_GENERATION     0x08   /* u32 */
#define CX_GDEL_EXTENTS        0x10

/* 4802h Add Dynamic Capacity Response, 4803h Release Dynamic Capacity:
 * in 8 + 0x18 per extent (Tables 8-168 to 8-170) */
#define CX_DCU_HDR_LEN         8
#define CX_DCU_COUNT           0x00   /* u32, updated extent list size */
#define CX_DCU_FLAGS           0x04
#define   CX_DCU_FLAG_MORE     (1u << 0)
#define CX_DCU_EXTENTS         0x08
#define CX_DCU_E_SIZE          0x18
#define CX_DCU_E_DPA           0x00   /* u64 */
#define CX_DCU_E_LEN           0x08   /* u64 */

/* Dynamic Capacity Event Record (§8.2.9.2.1.6, Table 8-50; the last
 * two fields as r3.2 defines bytes r3.1 reserved) */
extern const uint8_t cx_event_uuid_dynamic_capacity[16];
#define CX_DCEV_TYPE           0x30
enum cx_dc_event_type {
	CX_DCEV_ADD_CAPACITY = 0,
	CX_DCEV_RELEASE_CAPACITY = 1,
	CX_DCEV_FORCED_RELEASE = 2,
	CX_DCEV_REGION_CONFIG_UPDATED = 3,
	CX_DCEV_ADD_RESPONSE = 4,      /* to the FM: a host answered */
	CX_DCEV_CAPACITY_RELEASED = 5, /* to the FM: a host released */
};
#define CX_DCEV_VALIDITY       0x31
#define   CX_DCEV_VALID_AVAILABLE (1u << 0) /* the two counts below */
#define CX_DCEV_HOST_ID        0x32   /* u16 */
#define CX_DCEV_REGION_ID      0x34   /* Region Configuration Updated */
#define CX_DCEV_FLAGS          0x35
#define   CX_DCEV_FLAG_MORE    (1u << 0) /* another record of this chain
					    follows */
#define CX_DCEV_EXTENT         0x38   /* CX_DCE_SIZE bytes */
#define CX_DCEV_EXTENTS_AVAIL  0x78   /* u32 */
#define CX_DCEV_TAGS_AVAIL     0x7c   /* u32 */

/* CDAT DSMAS flags a DC region's entry carries */
#define CX_DSMAS_DYNAMIC_CAP   (1u << 5)

/* ---- CDAT (Coherent Device Attribute Table r1.03) ---- */
#define CX_CDAT_HDR_LEN        16
#define CX_CDAT_LENGTH         0x00   /* u32, whole table */
#define CX_CDAT_REVISION       0x04
#define CX_CDAT_CHECKSUM       0x05   /* all bytes sum to 0 */
#define CX_CDAT_SEQUENCE       0x0c   /* u32 */
/* every structure starts with type, reserved, u16 length */
#define CX_CDAT_S_TYPE         0x00
#define CX_CDAT_S_LENGTH       0x02
#define CX_CDAT_DSMAS          0
#define CX_CDAT_DSLBIS         1
#define CX_CDAT_DSEMTS         4
#define CX_DSMAS_LEN           24
#define CX_DSMAS_HANDLE        0x04
#define CX_DSMAS_FLAGS         0x05
#define   CX_DSMAS_NONVOLATILE (1u << 2)
#define   CX_DSMAS_SHAREABLE   (1u << 3)
#define CX_DSMAS_DPA_BASE      0x08   /* u64 */
#define CX_DSMAS_DPA_LEN       0x10   /* u64 */
#define CX_DSLBIS_LEN          24
#define CX_DSLBIS_HANDLE       0x04
#define CX_DSLBIS_FLAGS        0x05
#define CX_DSLBIS_DATA_TYPE    0x06   /* HMAT: 1 read lat, 2 write lat,
					 4 read bw, 5 write bw */
#define   CX_HMAT_READ_LATENCY  1
#define   CX_HMAT_WRITE_LATENCY 2
#define   CX_HMAT_READ_BW       4
#define   CX_HMAT_WRITE_BW      5
#define CX_DSLBIS_BASE_UNIT    0x08   /* u64 */
#define CX_DSLBIS_ENTRY0       0x10   /* u16 x 3 */
#define CX_DSEMTS_LEN          24
#define CX_DSEMTS_HANDLE       0x04
#define CX_DSEMTS_EFI_TYPE     0x05   /* 1 = EFI_MEMORY_SP, 2 = reserved */
#define CX_DSEMTS_DPA_OFFSET   0x08
#define CX_DSEMTS_DPA_LEN      0x10

/* Byte sum of a CDAT table (a valid one sums to 0 mod 256). */
uint8_t cx_cdat_sum(const uint8_t *buf, size_t len);
/*
 * HMAT-style encoding of a value as entry x base unit with a 16-bit entry:
 * picks the base unit (a power of ten, at least `min_base`) so the entry
 * fits; returns the entry and sets *base.
 */
uint16_t cx_hmat_encode(uint64_t value, uint64_t min_base, uint64_t *base);

#endif
