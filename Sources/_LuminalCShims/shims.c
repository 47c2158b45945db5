#define _GNU_SOURCE
#include "LuminalCShims.h"

#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* The kernel's P_PIDFD (linux/wait.h); glibc 2.36 does not list it in idtype_t. */
#define LUMINAL_P_PIDFD 3

int luminal_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

int luminal_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int luminal_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int luminal_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

int luminal_waitid_pidfd(int pidfd, int options, luminal_exit_info *info) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc = waitid((idtype_t)LUMINAL_P_PIDFD, (id_t)pidfd, &si, options);
    if (rc == 0) {
        info->code = si.si_pid == 0 ? 0 : si.si_code;
        info->status = si.si_status;
        info->pid = si.si_pid;
    }
    return rc;
}

int luminal_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int luminal_peer_credentials(int fd, pid_t *pid, uid_t *uid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *pid = credentials.pid;
    *uid = credentials.uid;
    return 0;
}

int luminal_accept(int fd) {
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}
