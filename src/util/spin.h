/*
 * spin.h - waiting a few microseconds awake before sleeping, for the
 * request/answer round trips between a client and the daemon.
 *
 * A process that blocks in read() or poll() lets its CPU go idle; on a
 * virtual machine an idle vCPU halts, and waking it for the next message
 * costs a trip through the hypervisor.  On this project's 2-vCPU test
 * machine a blocking UNIX-socket ping-pong took 45-95 us per round trip
 * when idle (13 us under load, which keeps the vCPUs awake); with both
 * ends polling for 50 us before they block it took 5.5-6 us.  So the
 * client spins that long for an answer, and the daemon for the next
 * request after serving one; a peer that takes longer finds them asleep
 * as before.  Every turn of the wait yields the CPU: on a busy machine a
 * waiter that only spun would hold the CPU its peer needs to answer (the
 * same ping-pong at load 1.9: 111 us p50 spinning, 15 us blocking, 9.3 us
 * spinning with sched_yield()).  A wait whose answer did not come within
 * the window makes the next eight of that thread block at once: with 16
 * clients on 2 vCPUs answers take longer than the window, and spinning
 * clients only lengthened the tail (small-request p99 0.74 ms blocking,
 * 3.5 ms spinning every time).  Both the binary mailbox frames and the JSON requests wait
 * so.  CXLEMU_SPIN_US sets the window (0: never spin).
 */
#ifndef CXLEMU_SPIN_H
#define CXLEMU_SPIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CX_SPIN_US_DEFAULT 50

/* The window, from CXLEMU_SPIN_US (read once), else the default. */
unsigned cx_spin_us(void);
/* Microseconds on the monotonic clock. */
uint64_t cx_now_us(void);
/* read(2) of a socket that first polls it, without blocking, for up to
 * cx_spin_us() microseconds; then blocks.  EINTR is retried. */
ssize_t cx_read_spin(int fd, void *buf, size_t n);
/* Poll fd for input, without blocking, for up to cx_spin_us()
 * microseconds (for a reader that must then read its own way, e.g.
 * recvmsg with descriptors); returns whether input is there. */
bool cx_spin_readable(int fd);

#endif
