#define _GNU_SOURCE
#include "CSandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int moat_memfd(const char *name) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

ssize_t moat_send_message(int sock, const void *buffer, size_t length, int fd) {
    struct iovec iov = {.iov_base = (void *)buffer, .iov_len = length};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    ssize_t sent;
    do {
        sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? -errno : sent;
}

ssize_t moat_receive_message(int sock, void *buffer, size_t capacity, int *fd) {
    *fd = -1;
    struct iovec iov = {.iov_base = buffer, .iov_len = capacity};
    union {
        // Room for a few descriptors: a peer that sends more gets them closed, not leaked.
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t received;
    do {
        received = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return -errno;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int received_fd;
            memcpy(&received_fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (*fd < 0) *fd = received_fd; else close(received_fd);
        }
    }
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        if (*fd >= 0) close(*fd);
        *fd = -1;
        return -EMSGSIZE;
    }
    return received;
}

int moat_unshare_system(void) {
    return unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC) == 0 ? 0 : -errno;
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t length = (ssize_t)strlen(text);
    ssize_t written = write(fd, text, (size_t)length);
    int saved = errno;
    close(fd);
    return written == length ? 0 : -(written < 0 ? saved : EIO);
}

int moat_unshare_as_user(void) {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC) != 0) return -errno;
    char map[64];
    int result = write_file("/proc/self/setgroups", "deny");
    if (result != 0) return result;
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if ((result = write_file("/proc/self/uid_map", map)) != 0) return result;
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return write_file("/proc/self/gid_map", map);
}

static int set_mount_attributes(const char *path, unsigned int flags, unsigned long long set,
                                unsigned long long clear) {
    struct mount_attr attr = {.attr_set = set, .attr_clr = clear};
    return syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr) == 0 ? 0 : -errno;
}

int moat_restrict_filesystem(const char *writable, const char *const *masked, int masked_count) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -errno;
    // The scratch directory first: it may sit below a directory that is masked next.
    if (mount(writable, "/tmp", NULL, MS_BIND, NULL) != 0) return -errno;
    for (int i = 0; i < masked_count; i++) {
        if (access(masked[i], F_OK) != 0) continue;
        if (mount("moat-masked", masked[i], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=4k,mode=0555") != 0)
            return -errno;
    }
    int result = set_mount_attributes("/", AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0);
    if (result != 0) return result;
    return set_mount_attributes("/tmp", 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                MOUNT_ATTR_RDONLY);
}

int moat_become(uid_t uid, gid_t gid) {
    if (setgroups(0, NULL) != 0) return -errno;
    if (setresgid(gid, gid, gid) != 0) return -errno;
    if (setresuid(uid, uid, uid) != 0) return -errno;
    // A dropped process must not be able to take root back.
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) return -EPERM;
    return 0;
}

int moat_apply_seccomp(int allow_accept) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return -ENOMEM;
    const int refuse = SCMP_ACT_ERRNO(EPERM);
    int rc = 0;
    // Only AF_UNIX sockets (socketpairs to moatd and between supervisor and worker).
    rc |= seccomp_rule_add(ctx, refuse, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
    rc |= seccomp_rule_add(ctx, refuse, SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
    if (!allow_accept) {
        rc |= seccomp_rule_add(ctx, refuse, SCMP_SYS(accept), 0);
        rc |= seccomp_rule_add(ctx, refuse, SCMP_SYS(accept4), 0);
    }
    const int denied[] = {
        SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
        SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(mount_setattr), SCMP_SYS(move_mount),
        SCMP_SYS(open_tree), SCMP_SYS(fsopen), SCMP_SYS(fsmount), SCMP_SYS(pivot_root),
        SCMP_SYS(chroot), SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(ptrace),
        SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(bpf),
        SCMP_SYS(perf_event_open), SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
        SCMP_SYS(kexec_load), SCMP_SYS(init_module), SCMP_SYS(finit_module),
        SCMP_SYS(delete_module), SCMP_SYS(reboot), SCMP_SYS(swapon), SCMP_SYS(swapoff),
        SCMP_SYS(acct), SCMP_SYS(settimeofday), SCMP_SYS(clock_settime), SCMP_SYS(userfaultfd),
        SCMP_SYS(io_uring_setup), SCMP_SYS(name_to_handle_at), SCMP_SYS(open_by_handle_at),
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
        rc |= seccomp_rule_add(ctx, refuse, denied[i], 0);
    if (rc == 0) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc < 0 ? rc : 0;
}

int moat_die_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0 ? 0 : -errno;
}

int moat_limit_memory(unsigned long long bytes) {
    struct rlimit core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &core) != 0) return -errno;
    if (bytes == 0) return 0;
    struct rlimit as = {bytes, bytes};
    return setrlimit(RLIMIT_AS, &as) == 0 ? 0 : -errno;
}

int moat_close_from(int lowest) {
    return syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0 ? 0 : -errno;
}

#include <sys/stat.h>
#include <sys/un.h>

static int unix_address(const char *path, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address->sun_path) return -ENAMETOOLONG;
    strcpy(address->sun_path, path);
    return 0;
}

int moat_listen_seqpacket(const char *path) {
    struct sockaddr_un address;
    int result = unix_address(path, &address);
    if (result != 0) return result;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || chmod(path, 0666) != 0 || listen(fd, 16) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
}

int moat_accept(int listener) {
    int fd;
    do {
        fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

int moat_connect_seqpacket(const char *path) {
    struct sockaddr_un address;
    int result = unix_address(path, &address);
    if (result != 0) return result;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
}

int moat_peer(int sock, uid_t *uid, pid_t *pid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -errno;
    *uid = credentials.uid;
    *pid = credentials.pid;
    return 0;
}
