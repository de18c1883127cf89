/*
 * ring - a single-producer, single-consumer message ring across two hosts
 * in CXL shared memory without hardware coherency, written as for real
 * hardware: the producer writes a message, writes it back (CLWB), fences,
 * then publishes the new head and writes it back; the consumer invalidates
 * the head (CLFLUSHOPT) before reading it, invalidates a message before
 * reading it, and writes back its tail (CLFLUSH) for the producer.
 *
 * Nothing here knows about cxlemu: the cache instructions are the CPU's.
 * Under `cxlemu run`, on a device mapped non-coherently, they are trapped
 * and do to the emulated caches what they would do to real ones.
 *
 * usage: ring produce|consume VARIANT [COUNT] [DEVICE]
 *
 * VARIANT is `ok` or one of the classic bugs:
 *   noflush-data   the producer never writes messages back
 *   noflush-head   the producer never writes the head back
 *   noinval-data   the consumer reads messages without invalidating
 *   noinval-head   the consumer polls the head without invalidating
 *   head-first     the producer writes back the head before the message
 *                  (and the message only after the consumer took it: the
 *                  race lost every time, whatever the machine's timing)
 *   inval-early    the consumer invalidates a message before reading the
 *                  head that says it is there
 * The consumer checks each message's sequence number and checksum and
 * exits 0 only when all COUNT (default 20000) arrived intact.  A side
 * that makes no progress for 5 s ($RING_STALL seconds) gives up: a
 * message that never becomes visible is a hang on hardware.
 */
#include <fcntl.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAP (2UL << 20)
#define SLOTS 128
#define LINE 64

struct msg {
	uint64_t seq;
	uint8_t payload[LINE - 16];
	uint64_t sum;
};

/* head and tail in lines of their own; the slots in the next page */
struct ring {
	volatile uint64_t head;
	uint8_t pad0[LINE - 8];
	volatile uint64_t tail;
	uint8_t pad1[4096 - LINE - 8];
	struct msg slot[SLOTS];
};

__attribute__((target("clwb"))) static void wb(const volatile void *p)
{
	_mm_clwb((void *)p);
}

__attribute__((target("clflushopt"))) static void inval(const volatile void *p)
{
	_mm_clflushopt((void *)p);
}

static void flush_inval(const volatile void *p)
{
	_mm_clflush((const void *)p);
}

static void fence(void)
{
	_mm_sfence();
}

static uint64_t sum_of(const struct msg *m)
{
	uint64_t s = m->seq * 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < sizeof(m->payload); i++)
		s = (s ^ m->payload[i]) * 0x100000001b3ULL;
	return s;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double stall_limit(void)
{
	const char *s = getenv("RING_STALL");
	return s ? atof(s) : 5.0;
}

/* The producer waits until the consumer's tail reaches `want` (*tail is
 * the last value it saw); 1 when the tail makes no progress for the stall
 * limit while message i waits. */
static int wait_tail(struct ring *r, uint64_t want, uint64_t *tail,
		     uint64_t i)
{
	double last = now(), stall = stall_limit();
	while (*tail < want) {
		inval(&r->tail);
		fence();
		uint64_t t = r->tail;
		if (t != *tail) {
			*tail = t;
			last = now();
		} else if (now() - last > stall) {
			fprintf(stderr, "ring: producer stuck at message %llu "
				"(tail %llu, waiting for %llu)\n",
				(unsigned long long)i,
				(unsigned long long)*tail,
				(unsigned long long)want);
			return 1;
		}
	}
	return 0;
}

static int produce(struct ring *r, const char *v, uint64_t count)
{
	uint64_t tail = 0;
	for (uint64_t i = 0; i < count; i++) {
		/* full: wait for the consumer to free a slot */
		if (i >= SLOTS && wait_tail(r, i - SLOTS + 1, &tail, i))
			return 1;
		struct msg *m = &r->slot[i % SLOTS];
		m->seq = i;
		for (size_t k = 0; k < sizeof(m->payload); k++)
			m->payload[k] = (uint8_t)(i * 31 + k);
		m->sum = sum_of(m);
		if (!strcmp(v, "head-first")) {
			r->head = i + 1;
			wb(&r->head);
			fence();
			/* the message is written back late: only once the
			 * consumer has taken it.  On hardware any write-back
			 * after the head is a race the consumer may or may not
			 * lose; waiting makes it lose every time, so a run
			 * shows the bug whatever the machine's timing. */
			if (wait_tail(r, i + 1, &tail, i))
				return 1;
			wb(m);
			fence();
			continue;
		}
		if (strcmp(v, "noflush-data"))
			wb(m);
		fence();
		r->head = i + 1;
		if (strcmp(v, "noflush-head"))
			wb(&r->head);
		fence();
	}
	printf("ring: producer sent %llu messages (%s)\n",
	       (unsigned long long)count, v);
	return 0;
}

static int consume(struct ring *r, const char *v, uint64_t count)
{
	double last = now(), stall = stall_limit();
	uint64_t tail = 0, corrupt = 0;
	while (tail < count) {
		struct msg *m = &r->slot[tail % SLOTS];
		if (!strcmp(v, "inval-early"))
			inval(m);                    /* too early */
		if (strcmp(v, "noinval-head"))
			inval(&r->head);
		fence();
		uint64_t head = r->head;
		if (head == tail) {
			if (now() - last > stall) {
				fprintf(stderr, "ring: consumer stuck after %llu "
					"messages (head %llu)\n",
					(unsigned long long)tail,
					(unsigned long long)head);
				break;
			}
			continue;
		}
		last = now();
		for (; tail < head && tail < count; tail++) {
			m = &r->slot[tail % SLOTS];
			if (strcmp(v, "noinval-data") && strcmp(v, "inval-early")) {
				inval(m);
				fence();
			}
			struct msg copy = *m;
			if (copy.seq != tail || copy.sum != sum_of(&copy))
				corrupt++;
			r->tail = tail + 1;
			flush_inval(&r->tail);
			fence();
		}
	}
	printf("ring: consumer received %llu of %llu messages, %llu corrupt "
	       "(%s)\n", (unsigned long long)tail, (unsigned long long)count,
	       (unsigned long long)corrupt, v);
	return tail == count && !corrupt ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const char *const variants[] = {
		"ok", "noflush-data", "noflush-head", "noinval-data",
		"noinval-head", "head-first", "inval-early",
	};
	if (argc < 3 || (strcmp(argv[1], "produce") && strcmp(argv[1], "consume"))) {
		fprintf(stderr, "usage: ring produce|consume VARIANT [COUNT] "
			"[DEVICE]\n");
		return 2;
	}
	int known = 0;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		known |= !strcmp(argv[2], variants[i]);
	if (!known) {
		fprintf(stderr, "ring: unknown variant '%s'\n", argv[2]);
		return 2;
	}
	uint64_t count = argc > 3 ? strtoull(argv[3], NULL, 0) : 20000;
	const char *dev = argc > 4 ? argv[4] : "/dev/dax0.0";
	int fd = open(dev, O_RDWR);
	if (fd < 0) {
		perror(dev);
		return 1;
	}
	struct ring *r = mmap(NULL, MAP, PROT_READ | PROT_WRITE, MAP_SHARED,
			      fd, 0);
	if (r == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	int rc = !strcmp(argv[1], "produce") ? produce(r, argv[2], count)
					      : consume(r, argv[2], count);
	munmap(r, MAP);
	close(fd);
	return rc;
}
