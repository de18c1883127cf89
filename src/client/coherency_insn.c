/*
 * coherency_insn.c - just enough x86-64 decoding for the checker: is the
 * instruction that faulted a locked read-modify-write?  A LOCK prefix
 * (lock add, lock cmpxchg, lock xadd, ...) or XCHG with a memory operand
 * (locked implicitly) is atomic only within one host's cache when the
 * memory is not coherent, so the checker reports it.
 */
#include "client/coherency.h"

bool cx_coh_insn_locked(const uint8_t *pc)
{
	if (!pc)
		return false;
	for (int i = 0; i < 15; i++) {
		uint8_t b = pc[i];
		switch (b) {
		case 0xf0:
			return true;            /* LOCK */
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64:
		case 0x65: case 0x66: case 0x67: case 0xf2: case 0xf3:
			continue;               /* other legacy prefixes */
		default:
			break;
		}
		if (b >= 0x40 && b <= 0x4f)     /* REX: the opcode follows */
			b = pc[++i];
		/* XCHG r/m, r with a memory operand (mod != 3) */
		return (b == 0x86 || b == 0x87) && (pc[i + 1] >> 6) != 3;
	}
	return false;
}
