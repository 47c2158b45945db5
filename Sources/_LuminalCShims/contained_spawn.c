// The spawn of every worker: it applies the worker's cgroup, resource limits and identity, and
// its parent-death signal, before the photon runs.
//
// posix_spawn cannot set any of them, so this one does what posix_spawn does inside, with
// clone3: CLONE_INTO_CGROUP creates the child in its cgroup, and CLONE_VM | CLONE_VFORK lets it
// run on a stack of its own in the supervisor's memory (no page tables copied) while the
// calling thread waits for its exec. The child applies the rest with raw system calls only (no
// allocation, no lock, no glibc set*id broadcast, which would wait for the supervisor's other
// threads, and no C library wrapper a sanitizer's runtime intercepts: its bookkeeping of signal
// handlers and descriptors lives in the memory the child shares, and would be the supervisor's)
// and execs; a failure is written into the caller's frame, so the caller sees it as a
// failed spawn with its errno and the step that failed. Signals are blocked around the clone,
// and the child resets every disposition before it unblocks them, so no supervisor handler
// runs in it. On architectures without the small trampoline below, the child is a copy
// (clone3 without CLONE_VM), which costs the page tables, and reports on a pipe instead.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "LuminalCShims.h"

static const char *const steps[] = {
    "reset signals", "start a session", "wire the fds", "close the other fds",
    "change directory", "set a resource limit", "set the supplementary groups",
    "set the group id", "set the user id", "set no_new_privs", "set the parent-death signal",
    "find the supervisor alive", "run the program",
};

struct child_failure {
    int error;
    int step;
};

struct child_start {
    const luminal_spawn_plan *plan;
    /// Where a failure goes: into the caller's memory (shared), or down a pipe (copied).
    struct child_failure *shared;
    int report;
};

static void fail(const struct child_start *start, int step) {
    struct child_failure failure = {errno, step};
    if (start->shared) {
        *start->shared = failure;
    } else {
        syscall(SYS_write, start->report, &failure, sizeof failure);
    }
    syscall(SYS_exit, 127);
    for (;;) {}
}

// Writes `value` (not negative) in decimal and a NUL at `text`, with nothing but stores.
static void write_decimal(char *text, long value) {
    char digits[20];
    int count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    for (int i = 0; i < count; i++) text[i] = digits[count - 1 - i];
    text[count] = 0;
}

static void child(void *argument) {
    const struct child_start *start = argument;
    const luminal_spawn_plan *plan = start->plan;
    int report = start->report;
    int step = 0;
    // The kernel's own sigaction, zeroed: SIG_DFL, no flags, an empty mask (the layouts differ
    // between architectures only past the handler and flags, and all of it is zero).
    struct { unsigned long words[4]; } action;
    memset(&action, 0, sizeof action);
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal != SIGKILL && signal != SIGSTOP) syscall(SYS_rt_sigaction, signal, &action, NULL, sizeof(uint64_t));
    }
    uint64_t empty = 0;
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof empty) != 0) fail(start, step);
    step++;
    if (syscall(SYS_setsid) < 0) fail(start, step);
    step++;
    struct child_start moved_start = *start;
    if (!start->shared) {
        // The report fd moves to the first fd closed next, out of the way of the targets.
        long moved = syscall(SYS_fcntl, report, F_DUPFD_CLOEXEC, plan->close_from);
        if (moved < 0) fail(start, step);
        moved_start.report = report = (int)moved;
        start = &moved_start;
    }
    for (int i = 0; i < plan->fd_count; i++) {
        // The sources are at 5 or above and the targets below: never the same fd.
        if (syscall(SYS_dup3, plan->fd_sources[i], plan->fd_targets[i], 0) < 0) fail(start, step);
    }
    step++;
    unsigned first_closed = start->shared ? (unsigned)plan->close_from : (unsigned)report + 1;
    if (syscall(SYS_close_range, first_closed, ~0U, 0) != 0) fail(start, step);
    if (!start->shared) {
        for (int fd = plan->close_from; fd < report; fd++) syscall(SYS_close, fd);
    }
    step++;
    if (syscall(SYS_chdir, plan->cwd) != 0) fail(start, step);
    step++;
    for (int i = 0; i < plan->rlimit_count; i++) {
        struct rlimit limit = {plan->rlimit_soft[i], plan->rlimit_hard[i]};
        if (syscall(SYS_prlimit64, 0, plan->rlimit_resources[i], &limit, NULL) != 0) fail(start, step);
    }
    step++;
    if (plan->umask >= 0) syscall(SYS_umask, (mode_t)plan->umask);
    if (plan->group_count >= 0 && syscall(SYS_setgroups, (size_t)plan->group_count, plan->groups) != 0) fail(start, step);
    step++;
    if (plan->gid >= 0 && syscall(SYS_setgid, (gid_t)plan->gid) != 0) fail(start, step);
    step++;
    if (plan->uid >= 0 && syscall(SYS_setuid, (uid_t)plan->uid) != 0) fail(start, step);
    step++;
    if (plan->no_new_privs && syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(start, step);
    step++;
    // After the identity switch, which clears it. It fires when the spawning thread ends, which
    // is why the supervisor spawns from a thread that lives as long as it does.
    if (plan->death_signal > 0 && syscall(SYS_prctl, PR_SET_PDEATHSIG, plan->death_signal, 0, 0, 0) != 0) fail(start, step);
    step++;
    // The supervisor may have died before the prctl: the child was then re-parented already.
    if (plan->death_signal > 0 && syscall(SYS_getppid) != plan->parent) {
        errno = ESRCH;
        fail(start, step);
    }
    step++;
    if (plan->pid_value) write_decimal(plan->pid_value, syscall(SYS_getpid));
    syscall(SYS_execve, plan->path, plan->argv, plan->envp);
    fail(start, step);
}

#if defined(__x86_64__)
#include <sys/mman.h>

// clone3 with the child starting in `entry(argument)` on the stack `args` names: after the
// system call the child has no frame to return to, so it calls `entry` from here and exits.
static long clone3_calling(struct clone_args *args, void (*entry)(void *), void *argument) {
    register long number __asm__("rax") = SYS_clone3;
    register struct clone_args *a __asm__("rdi") = args;
    register size_t size __asm__("rsi") = sizeof *args;
    register void (*function)(void *) __asm__("r12") = entry;
    register void *value __asm__("r13") = argument;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xor %%ebp, %%ebp\n\t"
        "mov %%r13, %%rdi\n\t"
        "call *%%r12\n\t"
        "mov $60, %%eax\n\t"
        "mov $127, %%edi\n\t"
        "syscall\n\t"
        "1:\n\t"
        : "+r"(number)
        : "r"(a), "r"(size), "r"(function), "r"(value)
        : "rcx", "r11", "memory");
    return number;
}

pid_t luminal_spawn_contained(const luminal_spawn_plan *plan, const char **failed_step) {
    *failed_step = NULL;
    size_t stack_size = 64 * 1024;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        *failed_step = "map the child's stack";
        return -1;
    }
    struct child_failure failure = {0, -1};
    struct child_start start = {plan, &failure, -1};
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_VM | CLONE_VFORK;
    args.exit_signal = SIGCHLD;
    args.stack = (unsigned long long)(uintptr_t)stack;
    args.stack_size = stack_size;
    if (plan->cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (unsigned long long)plan->cgroup_fd;
    }
    sigset_t all, before;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &before);
    long pid = clone3_calling(&args, child, &start);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    munmap(stack, stack_size);
    if (pid < 0) {
        errno = (int)-pid;
        *failed_step = "clone3";
        return -1;
    }
    if (failure.step >= 0) {
        int status;
        while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {}
        *failed_step = failure.step < (int)(sizeof steps / sizeof *steps) ? steps[failure.step] : "start";
        errno = failure.error;
        return -1;
    }
    return (pid_t)pid;
}

#else

pid_t luminal_spawn_contained(const luminal_spawn_plan *plan, const char **failed_step) {
    *failed_step = NULL;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    if (plan->cgroup_fd >= 0) {
        args.flags = CLONE_INTO_CGROUP;
        args.cgroup = (unsigned long long)plan->cgroup_fd;
    }
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        close(report[0]);
        struct child_start start = {plan, NULL, report[1]};
        child(&start);
    }
    int saved = errno;
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        errno = saved;
        *failed_step = "clone3";
        return -1;
    }
    struct child_failure failure;
    ssize_t n;
    do {
        n = read(report[0], &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof failure) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *failed_step = failure.step >= 0 && failure.step < (int)(sizeof steps / sizeof *steps) ? steps[failure.step] : "start";
        errno = failure.error;
        return -1;
    }
    return pid;
}

#endif
