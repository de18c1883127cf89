/*
 * preload_cacheops.c - the cache instructions of unmodified programs on
 * non-coherent memory.
 *
 * clflush, clflushopt and clwb on a page the program may read never
 * fault, so nothing would tell the emulator that a program flushed its
 * stores.  Once a non-coherent mapping exists, the loaded code (the
 * program and every library, and libraries loaded later through dlopen)
 * is searched for these instructions and each is replaced by int3: the
 * SIGTRAP handler computes the address the instruction names from the
 * saved registers, does what it stands for (clwb: write back the line;
 * clflush, clflushopt: write back and invalidate, refetching at once),
 * and resumes after it.
 *
 * Finding instructions in machine code is not exact, so a candidate (the
 * bytes 0F AE with a memory operand and reg 6 or 7, 66-prefixed for
 * clflushopt and clwb) is patched only when Debian's capstone
 * disassembler, started at two different earlier points of the segment,
 * lands on it both times as that instruction.  Fences (sfence, mfence)
 * are not trapped: write-back is synchronous here.  Not covered: code
 * generated at run time, statically linked programs without the preload,
 * non-temporal stores (movnt*: they bypass the cache on hardware; here
 * they land in this host's cache like any store and need a flush: run
 * PMDK programs with PMEM_NO_MOVNT=1 so that libpmem flushes instead),
 * and cache operations through FS/GS segment overrides.
 */
#include "preload/preload.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "client/coherency.h"

enum op { OP_CLWB, OP_CLFLUSH };

struct trap {
	uintptr_t pc;
	uint8_t len;
	uint8_t op;
	int8_t base, index;         /* gregs index, -1 none, -2 rip */
	uint8_t scale;
	int64_t disp;
};

#define MAX_TRAPS 4096
#define MAX_OBJS 512
static struct trap traps[MAX_TRAPS];
static int ntraps;                      /* read by the handler */
static uintptr_t scanned[MAX_OBJS];     /* load addresses already done */
static int nscanned;
static struct sigaction chained;
static bool installed;
static int seg_prot;                    /* of the segment being scanned */

static int greg_of(x86_reg r)
{
	switch (r) {
	case X86_REG_RAX: return REG_RAX;
	case X86_REG_RBX: return REG_RBX;
	case X86_REG_RCX: return REG_RCX;
	case X86_REG_RDX: return REG_RDX;
	case X86_REG_RSI: return REG_RSI;
	case X86_REG_RDI: return REG_RDI;
	case X86_REG_RBP: return REG_RBP;
	case X86_REG_RSP: return REG_RSP;
	case X86_REG_R8: return REG_R8;
	case X86_REG_R9: return REG_R9;
	case X86_REG_R10: return REG_R10;
	case X86_REG_R11: return REG_R11;
	case X86_REG_R12: return REG_R12;
	case X86_REG_R13: return REG_R13;
	case X86_REG_R14: return REG_R14;
	case X86_REG_R15: return REG_R15;
	case X86_REG_RIP: return -2;
	case X86_REG_INVALID: return -1;
	default: return -3;            /* 32-bit or segment: not handled */
	}
}

/* ---- the trap ---- */

static const struct trap *trap_at(uintptr_t pc)
{
	int lo = 0, hi = __atomic_load_n(&ntraps, __ATOMIC_ACQUIRE) - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (traps[mid].pc == pc)
			return &traps[mid];
		if (traps[mid].pc < pc)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction c = chained;
	if ((c.sa_flags & SA_SIGINFO) && c.sa_sigaction)
		c.sa_sigaction(sig, si, uc);
	else if (!(c.sa_flags & SA_SIGINFO) && c.sa_handler != SIG_DFL &&
		 c.sa_handler != SIG_IGN)
		c.sa_handler(sig);
	else if (c.sa_handler != SIG_IGN) {
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		CX_PL_NEXT(sigaction)(sig, &dfl, NULL);
		raise(sig);
	}
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	const struct trap *t = trap_at((uintptr_t)g[REG_RIP] - 1);
	if (!t) {
		chain(sig, si, ucv);
		return;
	}
	int saved = errno;
	uintptr_t next = t->pc + t->len;
	uintptr_t a = (uintptr_t)t->disp;
	if (t->base == -2)
		a += next;
	else if (t->base >= 0)
		a += (uintptr_t)g[t->base];
	if (t->index >= 0)
		a += (uintptr_t)g[t->index] * t->scale;
	if (t->op == OP_CLWB)
		cx_coh_flush(a, 1, t->pc);
	else
		cx_coh_invalidate(a, 1, t->pc);
	g[REG_RIP] = (greg_t)next;
	errno = saved;
}

void cx_pl_cacheops_chain(const struct sigaction *act, struct sigaction *old)
{
	if (old)
		*old = chained;
	if (act)
		chained = *act;
}

/* ---- finding the instructions ---- */

/* Could bytes at p start clflush/clflushopt/clwb with a memory operand? */
static bool candidate(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;
	bool opsize = false;
	if (q < end && *q == 0x66) {
		opsize = true;
		q++;
	}
	if (q < end && *q >= 0x40 && *q <= 0x4f)
		q++;
	if (end - q < 3 || q[0] != 0x0f || q[1] != 0xae)
		return false;
	int reg = (q[2] >> 3) & 7, mod = q[2] >> 6;
	if (mod == 3)
		return false;
	return reg == 7 || (reg == 6 && opsize);   /* 0F AE /6 alone: xsaveopt */
}

/* Disassemble from `from` up to `at`: does an instruction start exactly
 * at `at`, and is it a cache instruction?  Fills *out. */
static bool lands_on(csh h, cs_insn *insn, const uint8_t *from,
		     const uint8_t *at, const uint8_t *end)
{
	const uint8_t *code = from;
	size_t size = (size_t)(end - from);
	uint64_t addr = (uint64_t)(uintptr_t)from;
	while (addr < (uint64_t)(uintptr_t)at) {
		if (!cs_disasm_iter(h, &code, &size, &addr, insn)) {
			if (!size)
				return false;
			code++;          /* not code: step over a byte */
			size--;
			addr++;
		}
	}
	if (addr != (uint64_t)(uintptr_t)at ||
	    !cs_disasm_iter(h, &code, &size, &addr, insn))
		return false;
	return insn->id == X86_INS_CLFLUSH || insn->id == X86_INS_CLFLUSHOPT ||
	       insn->id == X86_INS_CLWB;
}

static int patched_cmp(const void *a, const void *b)
{
	const struct trap *x = a, *y = b;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* Patch one confirmed instruction; lock held (no trap runs on it yet). */
static void patch(cs_insn *insn, const uint8_t *at)
{
	const cs_x86_op *o = &insn->detail->x86.operands[0];
	int base = greg_of(o->mem.base), index = greg_of(o->mem.index);
	if (ntraps >= MAX_TRAPS || o->type != X86_OP_MEM || base == -3 ||
	    index == -3 || index == -2 || o->mem.segment != X86_REG_INVALID) {
		CX_PL_SAY_ONCE("a cache instruction at %p (%s %s) is not "
			       "trapped: its operand or the trap table is "
			       "beyond what the preload handles", (void *)at,
			       insn->mnemonic, insn->op_str);
		return;
	}
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t p0 = (uintptr_t)at & ~(uintptr_t)(pg - 1);
	if (syscall(SYS_mprotect, p0, pg, seg_prot | PROT_WRITE) < 0) {
		CX_PL_SAY_ONCE("cannot patch the cache instruction at %p: "
			       "mprotect: %s", (void *)at, strerror(errno));
		return;
	}
	struct trap t = { (uintptr_t)at, (uint8_t)insn->size,
			  insn->id == X86_INS_CLWB ? OP_CLWB : OP_CLFLUSH,
			  (int8_t)base, (int8_t)index, (uint8_t)o->mem.scale,
			  o->mem.disp };
	/* the table is sorted before the byte changes: a thread that hits
	 * the int3 finds its entry */
	struct trap tmp[MAX_TRAPS];
	memcpy(tmp, traps, sizeof(struct trap) * (size_t)ntraps);
	tmp[ntraps] = t;
	qsort(tmp, (size_t)ntraps + 1, sizeof(struct trap), patched_cmp);
	memcpy(traps, tmp, sizeof(struct trap) * ((size_t)ntraps + 1));
	__atomic_store_n(&ntraps, ntraps + 1, __ATOMIC_RELEASE);
	__atomic_store_n((uint8_t *)at, 0xcc, __ATOMIC_SEQ_CST);
	syscall(SYS_mprotect, p0, pg, seg_prot);
}

static void scan_segment(csh h, cs_insn *insn, const uint8_t *start,
			 const uint8_t *end)
{
	for (const uint8_t *p = start; p + 3 <= end; p++) {
		if (!candidate(p, end))
			continue;
		/* two starting points well before it must agree */
		const uint8_t *s1 = p - start > 4096 ? p - 4096 : start;
		const uint8_t *s2 = p - start > 96 ? p - 96 : start;
		if (lands_on(h, insn, s1, p, end) &&
		    lands_on(h, insn, s2, p, end))
			patch(insn, p);
		/* skip the rest of a confirmed or refused candidate */
		p += 2;
	}
}

static int scan_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	csh h = *(csh *)arg;
	const char *name = info->dlpi_name;
	if (name && (strstr(name, "linux-vdso") ||
		     strstr(name, "libcxlemu-preload") ||
		     strstr(name, "libcapstone")))
		return 0;
	for (int i = 0; i < nscanned; i++)
		if (scanned[i] == info->dlpi_addr && info->dlpi_addr)
			return 0;
	if (nscanned < MAX_OBJS)
		scanned[nscanned++] = info->dlpi_addr;
	cs_insn *insn = cs_malloc(h);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		const uint8_t *s = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		seg_prot = PROT_EXEC | (ph->p_flags & PF_R ? PROT_READ : 0) |
			   (ph->p_flags & PF_W ? PROT_WRITE : 0);
		scan_segment(h, insn, s, s + ph->p_memsz);
	}
	cs_free(insn, 1);
	return 0;
}

static void install(void)
{
	if (installed)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	CX_PL_NEXT(sigaction)(SIGTRAP, &sa, &chained);
	installed = true;
}

void cx_pl_cacheops_patch(void)
{
	csh h;
	cx_pl_lock_take();
	install();
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		cx_pl_lock_drop();
		CX_PL_SAY_ONCE("capstone cannot disassemble x86-64 here: the "
			       "program's cache instructions are not seen");
		return;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	dl_iterate_phdr(scan_object, &h);
	cs_close(&h);
	cx_pl_lock_drop();
}

/* Libraries loaded later are searched as they come. */
void *dlopen(const char *file, int mode)
{
	void *r = CX_PL_NEXT(dlopen)(file, mode);
	if (r && cx_pl_coh_any)
		cx_pl_cacheops_patch();
	return r;
}
