#define _GNU_SOURCE
#include "CPrivileges.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MOAT_MAX_THREADS 4096
#define MOAT_MAX_GROUPS 256

/// What every thread applies; written before the first signal, read-only while they run.
static struct {
    int change_ids;
    uid_t uid;
    gid_t gid;
    gid_t groups[MOAT_MAX_GROUPS];
    size_t group_count;
    uint64_t keep;
} plan;

/// One answer per thread: its id, 0 or an errno, and the step that failed.
static struct {
    _Atomic pid_t tid;
    int error;
    const char *step;
} answers[MOAT_MAX_THREADS];
static atomic_int answer_count;

static int capabilities_of_thread(struct __user_cap_data_struct data[2]) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return (int)syscall(SYS_capget, &header, data);
}

/// The switch of the calling thread, with raw system calls only (it runs in a signal handler).
static int switch_this_thread(const char **step) {
    if (plan.change_ids) {
        uid_t ruid, euid, suid;
        syscall(SYS_getresuid, &ruid, &euid, &suid);
        // A thread started by one that has switched already inherited the switch.
        int switched = ruid == plan.uid && euid == plan.uid && suid == plan.uid;
        if (!switched) {
            *step = "PR_CAPBSET_DROP";
            for (int cap = 0; cap < 64; cap++) {
                if (plan.keep & (1ULL << cap)) continue;
                if (syscall(SYS_prctl, PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break; // past the kernel's last
                if (syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return errno;
            }
            *step = "PR_SET_KEEPCAPS";
            if (syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return errno;
            *step = "setgroups";
            if (syscall(SYS_setgroups, plan.group_count, plan.groups) != 0) return errno;
            *step = "setresgid";
            if (syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) return errno;
            *step = "setresuid";
            if (syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) return errno;
            *step = "PR_SET_KEEPCAPS";
            if (syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return errno;
        }
    }
    struct __user_cap_data_struct data[2];
    *step = "capget";
    if (capabilities_of_thread(data) != 0) return errno;
    int changed = 0;
    for (int i = 0; i < 2; i++) {
        uint32_t keep = (uint32_t)(plan.keep >> (32 * i));
        struct __user_cap_data_struct wanted = {
            .permitted = data[i].permitted & keep,
            .effective = data[i].permitted & keep,
            // Never more than kept; with no_new_privs it adds nothing at execve anyway.
            .inheritable = data[i].inheritable & keep,
        };
        changed |= wanted.permitted != data[i].permitted || wanted.effective != data[i].effective
            || wanted.inheritable != data[i].inheritable;
        data[i] = wanted;
    }
    // Under a unit that filters capset (@privileged) and gave exactly these, nothing to set.
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    *step = "capset";
    if (changed && syscall(SYS_capset, &header, data) != 0) return errno;
    *step = "PR_CAP_AMBIENT_CLEAR_ALL";
    if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return errno;
    *step = "PR_SET_NO_NEW_PRIVS";
    if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
    *step = "";
    return 0;
}

static void record(pid_t tid, int error, const char *step) {
    int slot = atomic_fetch_add(&answer_count, 1);
    if (slot >= MOAT_MAX_THREADS) return;
    answers[slot].error = error;
    answers[slot].step = step;
    atomic_store(&answers[slot].tid, tid);
}

static void on_switch_signal(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)context;
    // Only our own tgkill: a seccomp SIGSYS (si_code SYS_SECCOMP) is not expected here.
    if (info->si_code != SI_TKILL || info->si_pid != getpid()) return;
    int saved = errno;
    const char *step = "";
    int error = switch_this_thread(&step);
    record((pid_t)syscall(SYS_gettid), error, step);
    errno = saved;
}

static int answered(pid_t tid, int *error, const char **step) {
    int count = atomic_load(&answer_count);
    if (count > MOAT_MAX_THREADS) count = MOAT_MAX_THREADS;
    for (int i = 0; i < count; i++) {
        if (atomic_load(&answers[i].tid) == tid) {
            *error = answers[i].error;
            *step = answers[i].step;
            return 1;
        }
    }
    return 0;
}

static void sleep_ms(long ms) {
    struct timespec time = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    nanosleep(&time, NULL);
}

/// Signals every thread not answered yet and waits for their answers. Returns the number of
/// threads that had not answered before (0: all of them had, the switch is complete).
static int signal_remaining(pid_t self, int timeout_ms, moat_switch_result *result) {
    pid_t pid = getpid();
    pid_t waiting[MOAT_MAX_THREADS];
    int count = 0;
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) {
        result->error = errno;
        result->step = "opendir /proc/self/task";
        return -1;
    }
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL && count < MOAT_MAX_THREADS) {
        pid_t tid = (pid_t)atoi(entry->d_name);
        int error;
        const char *step;
        if (tid <= 0 || tid == self || answered(tid, &error, &step)) continue;
        if (syscall(SYS_tgkill, pid, tid, SIGSYS) == 0) waiting[count++] = tid; // ESRCH: it ended
    }
    closedir(tasks);
    for (int i = 0; i < count; i++) {
        int error = 0;
        const char *step = "";
        int waited = 0;
        while (!answered(waiting[i], &error, &step)) {
            // A thread may also have ended meanwhile.
            if (syscall(SYS_tgkill, pid, waiting[i], 0) != 0 && errno == ESRCH) break;
            if (waited++ >= timeout_ms) {
                result->error = ETIMEDOUT;
                result->step = "a thread did not answer the switch signal";
                return -1;
            }
            sleep_ms(1);
        }
        if (error != 0 && result->error == 0) {
            result->error = error;
            result->step = step;
        }
    }
    return count;
}

moat_switch_result moat_switch_user(int change_ids, uid_t uid, gid_t gid, const gid_t *groups, size_t group_count,
                                    uint64_t keep, int timeout_ms) {
    moat_switch_result result = {.error = 0, .step = "", .threads = 0};
    if (group_count > MOAT_MAX_GROUPS) {
        result.error = EINVAL;
        result.step = "too many supplementary groups";
        return result;
    }
    plan.change_ids = change_ids;
    plan.uid = uid;
    plan.gid = gid;
    plan.group_count = group_count;
    if (group_count > 0) memcpy(plan.groups, groups, group_count * sizeof(gid_t));
    plan.keep = keep;
    atomic_store(&answer_count, 0);

    struct sigaction action, previous;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_switch_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);
    if (sigaction(SIGSYS, &action, &previous) != 0) {
        result.error = errno;
        result.step = "sigaction SIGSYS";
        return result;
    }
    pid_t self = (pid_t)syscall(SYS_gettid);
    const char *step = "";
    int error = switch_this_thread(&step);
    if (error != 0) {
        result.error = error;
        result.step = step;
    } else {
        // Threads started meanwhile by a thread not switched yet show up in the next round.
        for (int round = 0; round < 100 && result.error == 0; round++) {
            int signalled = signal_remaining(self, timeout_ms, &result);
            if (signalled <= 0) break;
        }
    }
    sigaction(SIGSYS, &previous, NULL);
    result.threads = 1 + (atomic_load(&answer_count) < MOAT_MAX_THREADS ? atomic_load(&answer_count) : MOAT_MAX_THREADS);
    return result;
}

int moat_thread_capabilities(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_data_struct data[2];
    if (capabilities_of_thread(data) != 0) return -errno;
    *effective = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    *permitted = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    *inheritable = (uint64_t)data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    return 0;
}
