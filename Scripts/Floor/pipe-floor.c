// The floor for Luminal's call benchmarks: two processes passing the same small length-prefixed
// JSON frame over a pair of pipes, with nothing else in between.
//   pipe-floor ROUNDTRIPS PIPELINED WINDOW [any|same|cross]
// Prints one JSON line: round-trip p50/p99 in microseconds, and pipelined frames per second with
// WINDOW frames in flight, with the CPU time each side spent per pipelined frame. With `same` both processes are pinned to CPU 0, with `cross` to CPUs 0
// and 1; by default (`any`) the scheduler places them, as it places Luminal's threads.
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

static const char body[] = "{\"type\":\"call\",\"id\":1,\"photon\":\"chaos\",\"method\":\"echo\",\"params\":{\"who\":\"bench\"}}";

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void write_all(int fd, const char *bytes, size_t count) {
    while (count > 0) {
        ssize_t n = write(fd, bytes, count);
        if (n <= 0) exit(1);
        bytes += n;
        count -= (size_t)n;
    }
}

// Reads until `count` whole frames have arrived (frames are all the same size).
static void read_frames(int fd, size_t frame, long count) {
    static char buffer[1 << 16];
    size_t want = frame * (size_t)count;
    while (want > 0) {
        ssize_t n = read(fd, buffer, want < sizeof buffer ? want : sizeof buffer);
        if (n <= 0) exit(1);
        want -= (size_t)n;
    }
}

// The echoing side: reads whatever is there, writes back every whole frame it holds.
static void echo(int in, int out) {
    static char buffer[1 << 16];
    size_t held = 0;
    for (;;) {
        ssize_t n = read(in, buffer + held, sizeof buffer - held);
        if (n <= 0) _exit(0);
        held += (size_t)n;
        size_t used = 0;
        while (held - used >= 4) {
            uint32_t length = ((uint32_t)(unsigned char)buffer[used] << 24) | ((uint32_t)(unsigned char)buffer[used + 1] << 16)
                            | ((uint32_t)(unsigned char)buffer[used + 2] << 8) | (uint32_t)(unsigned char)buffer[used + 3];
            if (held - used < 4 + length) break;
            used += 4 + length;
        }
        write_all(out, buffer, used);
        memmove(buffer, buffer + used, held - used);
        held -= used;
    }
}

// User + system CPU seconds of this process so far.
static double own_cpu_s(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// User + system CPU seconds of process `pid` so far, from /proc/PID/stat (clock-tick resolution).
static double cpu_s_of(pid_t pid) {
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (!file) exit(1);
    size_t n = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[n] = 0;
    // The fields after the command name, which ends at the last ')': utime and stime are the 12th and 13th.
    char *field = strrchr(text, ')');
    if (!field) exit(1);
    unsigned long long utime = 0, stime = 0;
    if (sscanf(field + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) exit(1);
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        perror("sched_setaffinity");
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: pipe-floor ROUNDTRIPS PIPELINED WINDOW [any|same|cross]\n");
        return 64;
    }
    long roundtrips = atol(argv[1]), pipelined = atol(argv[2]), window = atol(argv[3]);
    const char *placement = argc == 5 ? argv[4] : "any";
    if (strcmp(placement, "any") != 0) pin(0);
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        if (strcmp(placement, "cross") == 0) pin(1);
        close(down[1]);
        close(up[0]);
        echo(down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    size_t length = sizeof body - 1;
    char frame[4 + sizeof body];
    frame[0] = (char)(length >> 24); frame[1] = (char)(length >> 16); frame[2] = (char)(length >> 8); frame[3] = (char)length;
    memcpy(frame + 4, body, length);
    size_t size = 4 + length;

    double *samples = malloc(sizeof(double) * (size_t)roundtrips);
    for (long i = 0; i < roundtrips; i++) {
        double start = now_us();
        write_all(down[1], frame, size);
        read_frames(up[0], size, 1);
        samples[i] = now_us() - start;
    }
    qsort(samples, (size_t)roundtrips, sizeof(double), compare);

    double start = now_us(), own_cpu = own_cpu_s(), child_cpu = cpu_s_of(child);
    long sent = 0, received = 0;
    while (sent < window && sent < pipelined) { write_all(down[1], frame, size); sent++; }
    while (received < pipelined) {
        read_frames(up[0], size, 1);
        received++;
        if (sent < pipelined) { write_all(down[1], frame, size); sent++; }
    }
    double elapsed = (now_us() - start) / 1e6;
    own_cpu = own_cpu_s() - own_cpu;
    child_cpu = cpu_s_of(child) - child_cpu;
    close(down[1]);
    waitpid(child, NULL, 0);
    long p50 = (roundtrips + 1) / 2 - 1, p99 = (long)((double)roundtrips * 0.99 + 0.999999) - 1;
    printf("{\"p50_us\": %.2f, \"p99_us\": %.2f, \"n\": %ld, \"pipelined_per_s\": %.0f, \"window\": %ld, \"placement\": \"%s\", "
           "\"sender_cpu_us_per_frame\": %.3f, \"echo_cpu_us_per_frame\": %.3f}\n",
           samples[p50], samples[p99], roundtrips, (double)pipelined / elapsed, window, placement,
           own_cpu * 1e6 / (double)pipelined, child_cpu * 1e6 / (double)pipelined);
    return 0;
}
