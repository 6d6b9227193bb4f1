/* Preloaded into moatd and moat-scan under valgrind 3.19 (Debian bookworm) only, never in
 * production. Valgrind's rt_sigsuspend wrapper clears VG_SIGVGKILL in the caller's mask in
 * place; libdispatch passes a `static const` mask (read-only memory), so valgrind faults on
 * it ("VALGRIND INTERNAL ERROR: Valgrind received a signal 11") when dispatchMain parks the
 * main thread. Here the mask is copied to the stack first; the kernel sees the same mask. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
