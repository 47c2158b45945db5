#ifndef LUMINAL_C_SHIMS_H
#define LUMINAL_C_SHIMS_H

/* Elsewhere the build stops here, and at the first Linux header below, which is missing. */
#ifndef __linux__
#error "Luminal runs on Linux only"
#endif

#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
/* epoll is not part of Swift's Glibc module; including it here makes it visible to Swift. */
#include <sys/epoll.h>
/* Likewise inotify, for watching photon folders. */
#include <sys/inotify.h>
/* And malloc's statistics (`mallinfo2`), which the benchmarks' memory figures read. */
#include <malloc.h>

/// poll(2)'s "the peer closed its end" (`POLLRDHUP`), which needs _GNU_SOURCE.
static const short luminal_pollrdhup = 0x2000;

/// How a child ended, read from `siginfo_t` (whose union members Swift cannot reach).
typedef struct {
    /// CLD_EXITED, CLD_KILLED or CLD_DUMPED; 0 when the child has not exited yet (WNOHANG).
    int code;
    /// The exit status for CLD_EXITED, the signal number otherwise.
    int status;
    /// The child's pid, 0 when nothing was reaped.
    pid_t pid;
} luminal_exit_info;

/// `pipe2` is declared only under _GNU_SOURCE, which Swift's Glibc module does not define.
int luminal_pipe2(int fds[2], int flags);

/// `posix_spawn_file_actions_addclosefrom_np` (glibc >= 2.34) is a GNU extension hidden from Swift.
int luminal_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// `pidfd_open` through `syscall`, which is variadic and so not callable from Swift.
int luminal_pidfd_open(pid_t pid);

/// `pidfd_send_signal` through `syscall`, which is variadic and so not callable from Swift.
int luminal_pidfd_send_signal(int pidfd, int signal);

/// `waitid(P_PIDFD, ...)`: P_PIDFD is missing from glibc's idtype_t and the result lives in a union.
int luminal_waitid_pidfd(int pidfd, int options, luminal_exit_info *info);

/// `prctl(PR_SET_CHILD_SUBREAPER, 1)`: prctl is variadic and so not callable from Swift.
int luminal_set_child_subreaper(void);

/// `getsockopt(SO_PEERCRED)`: `struct ucred` is declared only under _GNU_SOURCE.
int luminal_peer_credentials(int fd, pid_t *pid, uid_t *uid);

/// `accept4` is declared only under _GNU_SOURCE; the connection gets O_CLOEXEC and O_NONBLOCK.
int luminal_accept(int fd);

/// What `luminal_spawn_contained` sets up in the child before it execs `path`.
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    /// `fd_sources[i]` becomes the child's `fd_targets[i]`; every source is above every target.
    const int *fd_sources;
    const int *fd_targets;
    int fd_count;
    /// Every fd from here up is closed.
    int close_from;
    const char *cwd;
    /// An fd of the cgroup folder the child is created in (CLONE_INTO_CGROUP), or -1.
    int cgroup_fd;
    /// `setrlimit(rlimit_resources[i], {rlimit_soft[i], rlimit_hard[i]})`.
    const int *rlimit_resources;
    const unsigned long long *rlimit_soft;
    const unsigned long long *rlimit_hard;
    int rlimit_count;
    /// The umask, or -1 to keep it.
    int umask;
    /// The supplementary groups (`group_count` of them), or -1 to keep them.
    const gid_t *groups;
    int group_count;
    /// The gid and uid, or -1 to keep them.
    long gid;
    long uid;
    /// Whether to set no_new_privs.
    int no_new_privs;
    /// The signal the child gets when the thread that spawned it ends (PR_SET_PDEATHSIG), set
    /// after the identity switch, or 0 for none; with one, a child whose parent is no longer
    /// `parent` (the supervisor died before the prctl) exits at once with status 127.
    int death_signal;
    pid_t parent;
    /// Where the child writes its own pid in decimal, NUL-terminated (an environment entry's
    /// value, `LISTEN_PID`; room for 11 bytes), or NULL.
    char *pid_value;
} luminal_spawn_plan;

/// Spawns `plan->path` in a cgroup, with limits, an identity and a parent-death signal, as
/// ARCHITECTURE.md §4.1 says; the child also gets an empty signal mask, default dispositions and a
/// session (and so a process group) of its own. Returns the pid, or -1 with errno set and `*failed_step` naming the step.
pid_t luminal_spawn_contained(const luminal_spawn_plan *plan, const char **failed_step);

/// The commit this binary was built from: the `LUMINAL_COMMIT` macro (`-Xcc -DLUMINAL_COMMIT=HASH`,
/// as `Scripts/install` passes it), or "unknown" for a build without it.
const char *luminal_build_commit(void);

#endif
