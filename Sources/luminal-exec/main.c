// luminal-exec: applies a photon's limits, cgroup and identity to itself, then execs the photon.
//
// The supervisor spawns this instead of the photon when the photon needs any of these (see
// Sources/Luminal/ARCHITECTURE.md, "Limits and identity"), so that nothing of the photon runs
// before they apply. Options, in the order they are applied whatever the order given:
//
//   --cgroup DIR           join the cgroup DIR (writes 0 to DIR/cgroup.procs)
//   --rlimit R=SOFT:HARD   setrlimit; R is one of nofile, core, cpu, nproc, as; "inf" is unlimited
//   --umask OCTAL          umask
//   --groups G,G,...       setgroups (supplementary groups; empty for none)
//   --gid GID              setgid
//   --uid UID              setuid
//   --no-new-privs         prctl(PR_SET_NO_NEW_PRIVS)
//   --report-fd FD         where a failure is reported (close-on-exec: the supervisor reads
//                          end of file once the photon runs, or the reason it could not)
//   -- PROGRAM ARGS...     execv; argv[0] of the photon is PROGRAM
//
// On any failure it writes "ERRNO WHAT" to the report fd (or standard error) and exits 127
// before the photon runs; the supervisor reports it as a failed spawn.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LIMITS 8
#define MAX_GROUPS 256

static int report = 2;

static void say(const char *text) {
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t n = write(report, text, length);
        if (n <= 0) return;
        text += n;
        length -= (size_t)n;
    }
}

// Reports "ERRNO WHAT" (the supervisor turns it into its own error) and exits.
static void die(const char *what, const char *detail) {
    char text[4096];
    snprintf(text, sizeof text, "%d %s%s%s", errno, what, detail ? " " : "", detail ? detail : "");
    say(text);
    exit(127);
}

static void usage(const char *problem) {
    errno = EINVAL;
    die(problem, NULL);
}

static int resource(const char *name) {
    if (strcmp(name, "nofile") == 0) return RLIMIT_NOFILE;
    if (strcmp(name, "core") == 0) return RLIMIT_CORE;
    if (strcmp(name, "cpu") == 0) return RLIMIT_CPU;
    if (strcmp(name, "nproc") == 0) return RLIMIT_NPROC;
    if (strcmp(name, "as") == 0) return RLIMIT_AS;
    return -1;
}

static rlim_t amount(const char *text) {
    if (strcmp(text, "inf") == 0) return RLIM_INFINITY;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') usage("a limit must be a number or inf");
    return (rlim_t)value;
}

static unsigned long number(const char *text, int base, const char *what) {
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, base);
    if (errno != 0 || end == text || *end != '\0') usage(what);
    return value;
}

int main(int argc, char **argv) {
    const char *cgroup = NULL;
    int limits[MAX_LIMITS];
    struct rlimit values[MAX_LIMITS];
    int limitCount = 0;
    long mask = -1;
    gid_t groups[MAX_GROUPS];
    int groupCount = -1;
    long gid = -1, uid = -1;
    int noNewPrivs = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *option = argv[i];
        if (strcmp(option, "--") == 0) { i++; break; }
        if (strcmp(option, "--no-new-privs") == 0) { noNewPrivs = 1; continue; }
        if (i + 1 >= argc) usage("an option lacks its value");
        const char *value = argv[++i];
        if (strcmp(option, "--report-fd") == 0) {
            report = (int)number(value, 10, "--report-fd takes a number");
            fcntl(report, F_SETFD, FD_CLOEXEC);
        } else if (strcmp(option, "--cgroup") == 0) {
            cgroup = value;
        } else if (strcmp(option, "--rlimit") == 0) {
            char name[16];
            const char *equals = strchr(value, '='), *colon = equals ? strchr(equals, ':') : NULL;
            if (!equals || !colon || (size_t)(equals - value) >= sizeof name) usage("--rlimit takes NAME=SOFT:HARD");
            memcpy(name, value, (size_t)(equals - value));
            name[equals - value] = '\0';
            int which = resource(name);
            if (which < 0 || limitCount == MAX_LIMITS) usage("unknown or too many --rlimit");
            char soft[32];
            if ((size_t)(colon - equals - 1) >= sizeof soft) usage("--rlimit value too long");
            memcpy(soft, equals + 1, (size_t)(colon - equals - 1));
            soft[colon - equals - 1] = '\0';
            limits[limitCount] = which;
            values[limitCount].rlim_cur = amount(soft);
            values[limitCount].rlim_max = amount(colon + 1);
            limitCount++;
        } else if (strcmp(option, "--umask") == 0) {
            mask = (long)number(value, 8, "--umask takes an octal number");
        } else if (strcmp(option, "--groups") == 0) {
            groupCount = 0;
            char list[4096];
            if (strlen(value) >= sizeof list) usage("--groups list too long");
            strcpy(list, value);
            for (char *item = strtok(list, ","); item; item = strtok(NULL, ",")) {
                if (groupCount == MAX_GROUPS) usage("too many --groups");
                groups[groupCount++] = (gid_t)number(item, 10, "--groups takes numbers");
            }
        } else if (strcmp(option, "--gid") == 0) {
            gid = (long)number(value, 10, "--gid takes a number");
        } else if (strcmp(option, "--uid") == 0) {
            uid = (long)number(value, 10, "--uid takes a number");
        } else {
            usage("unknown option");
        }
    }
    if (i >= argc) usage("no program after --");

    if (cgroup) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/cgroup.procs", cgroup) >= (int)sizeof path) usage("cgroup path too long");
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) die("open", path);
        if (write(fd, "0", 1) != 1) die("join the cgroup", cgroup);
        close(fd);
    }
    for (int k = 0; k < limitCount; k++) {
        if (setrlimit(limits[k], &values[k]) != 0) die("set a resource limit", NULL);
    }
    if (mask >= 0) umask((mode_t)mask);
    if (groupCount >= 0 && setgroups((size_t)groupCount, groups) != 0) die("set the supplementary groups", NULL);
    if (gid >= 0 && setgid((gid_t)gid) != 0) die("set the group id", NULL);
    if (uid >= 0 && setuid((uid_t)uid) != 0) die("set the user id", NULL);
    if (noNewPrivs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("set no_new_privs", NULL);
    execv(argv[i], &argv[i]);
    die("run", argv[i]);
    return 127;
}
