// Thin glue for Moat's scan sandbox: the Linux calls Swift's Glibc module does not import
// (they need _GNU_SOURCE), SCM_RIGHTS message handling, and the seccomp filter (libseccomp).
// Every function returns 0 (or a descriptor/byte count) on success and -errno on failure.
#ifndef MOAT_CSANDBOX_H
#define MOAT_CSANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/// An anonymous in-memory file (memfd_create, close-on-exec) a scan's bytes travel in.
int moat_memfd(const char *name);

/// Sends one datagram on a SOCK_SEQPACKET socket, with `fd` attached (SCM_RIGHTS) unless -1.
ssize_t moat_send_message(int sock, const void *buffer, size_t length, int fd);

/// Receives one datagram. `*fd` is the attached descriptor (close-on-exec) or -1. Returns the
/// length, 0 at end of stream, -EMSGSIZE when the datagram did not fit (and closes any fd).
ssize_t moat_receive_message(int sock, void *buffer, size_t capacity, int *fd);

/// unshare(2) of the network, mount and IPC namespaces (needs CAP_SYS_ADMIN).
int moat_unshare_system(void);

/// unshare(2) of a user namespace plus network, mount and IPC, mapping the caller's own uid
/// and gid: the fallback when the process is not root.
int moat_unshare_as_user(void);

/// Makes the mount tree private, hides each of `masked` under an empty read-only tmpfs,
/// bind-mounts `writable` on /tmp, then makes everything read-only (recursively) except /tmp.
int moat_restrict_filesystem(const char *writable, const char *const *masked, int masked_count);

/// setgroups(0), setresgid, setresuid, and checks that root cannot be regained.
int moat_become(uid_t uid, gid_t gid);

/// PR_SET_NO_NEW_PRIVS and a seccomp filter that refuses (EPERM) every call that could reach
/// a network or change the sandbox: socket (except AF_UNIX), connect, bind, listen, accept
/// (unless `allow_accept`: the service mode accepts moatd on a socket made beforehand),
/// mount, unshare, setns, ptrace, bpf, keyctl, and the like.
int moat_apply_seccomp(int allow_accept);

/// A listening SOCK_SEQPACKET unix socket at `path` (an old one is replaced), mode 0666: who
/// may talk to it is decided per connection by its peer's credentials.
int moat_listen_seqpacket(const char *path);

/// accept4 with close-on-exec.
int moat_accept(int listener);

/// Connects to a SOCK_SEQPACKET unix socket at `path` (close-on-exec).
int moat_connect_seqpacket(const char *path);

/// The peer's uid and pid (SO_PEERCRED).
int moat_peer(int sock, uid_t *uid, pid_t *pid);

/// The process dies with SIGKILL when its parent does.
int moat_die_with_parent(void);

/// Caps the address space (RLIMIT_AS) and disables core dumps.
int moat_limit_memory(unsigned long long bytes);

/// Closes every descriptor from `lowest` up (close_range): a spawned process keeps only what
/// it was given on purpose.
int moat_close_from(int lowest);

#endif
