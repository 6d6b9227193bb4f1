// moatd's switch from root to its run user, for every thread of the process at once.
//
// Linux keeps credentials per thread: setresuid(2) through glibc reaches every thread, but
// capset(2), the bounding set and keep-caps touch only the calling one. A process that has
// threads already (Swift's cooperative pool, NIO's event loops, SQLite's queues) must make
// each thread switch itself: this file does what libpsx does, without needing to wrap
// pthread_create. Every thread gets SIGSYS (a signal libdispatch's workers do not block,
// which libpsx chose for the same reason) and runs the switch with raw system calls.
#ifndef MOAT_CPRIVILEGES_H
#define MOAT_CPRIVILEGES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// What became of the switch: `error` is 0 or the errno of the step that failed, named by
/// `step` (a static string); `threads` counts the threads that switched, the caller included.
typedef struct {
    int error;
    const char *step;
    int threads;
} moat_switch_result;

/// Every thread: when `change_ids`, drops from the bounding set every capability not in
/// `keep` (a mask of capability numbers), keeps its permitted set across the change of ids,
/// and takes `groups`, `gid` and `uid` (real, effective, saved); then every thread keeps in
/// its permitted, effective and inheritable sets only what is in `keep` and was there, clears
/// its ambient set and sets no_new_privs. Without `change_ids` (moatd started
/// without root) only the second part runs. Fails when a thread does not answer within
/// `timeout_ms`.
moat_switch_result moat_switch_user(int change_ids, uid_t uid, gid_t gid, const gid_t *groups, size_t group_count,
                                    uint64_t keep, int timeout_ms);

/// The calling thread's capability sets (capget): effective, permitted, inheritable.
int moat_thread_capabilities(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);

#endif
