/*
 * preload_cacheops.c - the cache instructions of unmodified programs on
 * non-coherent memory.
 *
 * clflush, clflushopt and clwb on a page the program may read never
 * fault, so nothing would tell the emulator that a program flushed its
 * stores.  At each non-coherent mapping, the loaded code (the program
 * and every library not searched before) is searched for these
 * instructions and each is replaced by int3: the
 * SIGTRAP handler computes the address the instruction names from the
 * saved registers, does what it stands for (clwb: write back the line;
 * clflush, clflushopt: write back and invalidate, refetching at once),
 * and resumes after it.
 *
 * Finding instructions in machine code is not exact, so a candidate (the
 * bytes 0F AE with a memory operand and reg 6 or 7, 66-prefixed for
 * clflushopt and clwb) is patched only when Debian's capstone
 * disassembler lands on it as that instruction twice: in one linear
 * sweep of the executable segment from its start, and in a short sweep
 * started a little before it.  Fences (sfence, mfence)
 * are not trapped: write-back is synchronous here.  Not covered: code
 * generated at run time, libraries dlopen()ed after the last
 * non-coherent mapping (dlopen is not interposed: glibc searches the
 * calling object's RPATH, which would become the preload's), statically
 * linked programs without the preload,
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

#define MAX_TRAPS 8192                  /* found in one segment */
#define MAX_OBJS 512
/* The traps, sorted by address.  A new table is published whole (the
 * handler may be searching the old one in another thread), and old ones
 * are kept: one per segment that had any, a few in all. */
struct table {
	int n;
	struct trap t[];
};
static struct table *table;
static struct trap found[MAX_TRAPS];    /* this segment's, lock held */
static int nfound;
static uintptr_t scanned[MAX_OBJS];     /* load addresses already done */
static int nscanned;
static struct sigaction chained;
static bool installed;

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
	const struct table *tb = __atomic_load_n(&table, __ATOMIC_ACQUIRE);
	int lo = 0, hi = tb ? tb->n - 1 : -1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (tb->t[mid].pc == pc)
			return &tb->t[mid];
		if (tb->t[mid].pc < pc)
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

static bool cache_insn(const cs_insn *insn);

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
	return addr == (uint64_t)(uintptr_t)at &&
	       cs_disasm_iter(h, &code, &size, &addr, insn) && cache_insn(insn);
}

static int patched_cmp(const void *a, const void *b)
{
	const struct trap *x = a, *y = b;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* Note a confirmed instruction (insn decoded with details at `at`). */
static void note(cs_insn *insn, const uint8_t *at)
{
	const cs_x86_op *o = &insn->detail->x86.operands[0];
	int base = greg_of(o->mem.base), index = greg_of(o->mem.index);
	if (nfound >= MAX_TRAPS || o->type != X86_OP_MEM || base == -3 ||
	    index == -3 || index == -2 || o->mem.segment != X86_REG_INVALID) {
		CX_PL_SAY_ONCE("a cache instruction at %p (%s %s) is not "
			       "trapped: its operand, or their number, is "
			       "beyond what the preload handles", (void *)at,
			       insn->mnemonic, insn->op_str);
		return;
	}
	found[nfound++] = (struct trap){
		(uintptr_t)at, (uint8_t)insn->size,
		insn->id == X86_INS_CLWB ? OP_CLWB : OP_CLFLUSH,
		(int8_t)base, (int8_t)index, (uint8_t)o->mem.scale,
		o->mem.disp };
}

/* Publish the table with this segment's finds, then write their int3s,
 * one mprotect pair per page (`prot`: the segment's).  Lock held. */
static void patch_found(int prot)
{
	if (!nfound)
		return;
	int old = table ? table->n : 0;
	struct table *t = cx_xcalloc(1, sizeof(*t) + sizeof(struct trap) *
				     (size_t)(old + nfound));
	if (old)
		memcpy(t->t, table->t, sizeof(struct trap) * (size_t)old);
	memcpy(t->t + old, found, sizeof(struct trap) * (size_t)nfound);
	t->n = old + nfound;
	qsort(t->t, (size_t)t->n, sizeof(struct trap), patched_cmp);
	__atomic_store_n(&table, t, __ATOMIC_RELEASE);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t open_page = 0;
	for (int i = 0; i < nfound; i++) {
		uintptr_t p0 = found[i].pc & ~(uintptr_t)(pg - 1);
		if (p0 != open_page) {
			if (open_page)
				syscall(SYS_mprotect, open_page, pg, prot);
			open_page = 0;
			if (syscall(SYS_mprotect, p0, pg, prot | PROT_WRITE) < 0) {
				CX_PL_SAY_ONCE("cannot patch the cache "
					       "instruction at %#lx: mprotect: "
					       "%s", (unsigned long)found[i].pc,
					       strerror(errno));
				continue;
			}
			open_page = p0;
		}
		__atomic_store_n((uint8_t *)found[i].pc, 0xcc, __ATOMIC_SEQ_CST);
	}
	if (open_page)
		syscall(SYS_mprotect, open_page, pg, prot);
	nfound = 0;
}

static bool cache_insn(const cs_insn *insn)
{
	return insn->id == X86_INS_CLFLUSH || insn->id == X86_INS_CLFLUSHOPT ||
	       insn->id == X86_INS_CLWB;
}

#define WINDOW 512      /* a sweep from this far back resynchronises */
#define SHORT 96

/*
 * The candidates of [start, end) confirmed twice: by sweeps from WINDOW
 * and from SHORT bytes before each, or, when candidates are so many that
 * the windows would cover more than the segment, by one sweep of the
 * whole segment and the short one.  (libpmem: 920 in 290 KiB; libcrypto:
 * 2.5 MiB with a handful.)
 */
static void scan_segment(csh h, cs_insn *insn, const uint8_t *start,
			 const uint8_t *end, int prot)
{
	static const uint8_t *cand[MAX_TRAPS];
	int ncand = 0;
	for (const uint8_t *p = start; p + 3 <= end && ncand < MAX_TRAPS; p++)
		if (candidate(p, end))
			cand[ncand++] = p;
	if (!ncand)
		return;
	int nhits = 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_OFF);
	if ((size_t)ncand * (WINDOW + SHORT) > (size_t)(end - start)) {
		const uint8_t *code = start;
		size_t size = (size_t)(end - start);
		uint64_t addr = (uint64_t)(uintptr_t)start;
		int k = 0;
		while (size && k < ncand) {
			if (!cs_disasm_iter(h, &code, &size, &addr, insn)) {
				code++;  /* not code: step over a byte */
				size--;
				addr++;
				continue;
			}
			const uint8_t *at = code - insn->size;
			while (k < ncand && cand[k] < at)
				k++;
			if (k < ncand && cand[k] == at && cache_insn(insn))
				cand[nhits++] = cand[k++];
		}
	} else {
		for (int k = 0; k < ncand; k++) {
			const uint8_t *p = cand[k];
			const uint8_t *s = p - start > WINDOW ? p - WINDOW : start;
			if (lands_on(h, insn, s, p, end))
				cand[nhits++] = p;
		}
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	for (int k = 0; k < nhits; k++) {
		const uint8_t *p = cand[k];
		const uint8_t *s = p - start > SHORT ? p - SHORT : start;
		if (lands_on(h, insn, s, p, end))
			note(insn, p);
	}
	patch_found(prot);
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
		int prot = PROT_EXEC | (ph->p_flags & PF_R ? PROT_READ : 0) |
			   (ph->p_flags & PF_W ? PROT_WRITE : 0);
		scan_segment(h, insn, s, s + ph->p_memsz, prot);
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

int cx_pl_cacheops_patch(void)
{
	csh h;
	cx_pl_lock_take();
	install();
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		cx_pl_lock_drop();
		CX_PL_SAY_ONCE("capstone cannot disassemble x86-64 here: the "
			       "program's cache instructions are not seen");
		return 0;
	}
	/* on while cs_malloc makes the instruction: it sizes its details */
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	dl_iterate_phdr(scan_object, &h);
	cs_close(&h);
	int n = table ? table->n : 0;
	cx_pl_lock_drop();
	return n;
}
