// The floor for Luminal's streamed results: one process writing COUNT length-prefixed frames of
// a JSON part holding a string of BYTES bytes into a pipe, another reading them frame by frame
// (the length, then the payload), with nothing else in between.
//   stream-floor COUNT BYTES
// Prints one JSON line: frames and payload bytes per second.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void read_exactly(int fd, char *buffer, size_t count) {
    while (count > 0) {
        ssize_t n = read(fd, buffer, count);
        if (n <= 0) exit(1);
        buffer += n;
        count -= (size_t)n;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: stream-floor COUNT BYTES\n");
        return 64;
    }
    long count = atol(argv[1]), bytes = atol(argv[2]);
    static const char head[] = "{\"type\":\"part\",\"id\":1,\"value\":\"", tail[] = "\"}";
    size_t length = sizeof head - 1 + (size_t)bytes + sizeof tail - 1;
    char *frame = malloc(4 + length), *buffer = malloc(length);
    frame[0] = (char)(length >> 24); frame[1] = (char)(length >> 16); frame[2] = (char)(length >> 8); frame[3] = (char)length;
    memcpy(frame + 4, head, sizeof head - 1);
    memset(frame + 4 + sizeof head - 1, 'x', (size_t)bytes);
    memcpy(frame + 4 + sizeof head - 1 + bytes, tail, sizeof tail - 1);
    int fds[2];
    if (pipe(fds) != 0) return 1;
    double start = now_s();
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        for (long i = 0; i < count; i++) {
            const char *at = frame;
            size_t left = 4 + length;
            while (left > 0) {
                ssize_t n = write(fds[1], at, left);
                if (n <= 0) _exit(1);
                at += n;
                left -= (size_t)n;
            }
        }
        _exit(0);
    }
    close(fds[1]);
    char header[4];
    for (long i = 0; i < count; i++) {
        read_exactly(fds[0], header, 4);
        uint32_t size = ((uint32_t)(unsigned char)header[0] << 24) | ((uint32_t)(unsigned char)header[1] << 16)
                      | ((uint32_t)(unsigned char)header[2] << 8) | (uint32_t)(unsigned char)header[3];
        read_exactly(fds[0], buffer, size);
    }
    double seconds = now_s() - start;
    waitpid(child, NULL, 0);
    printf("{\"frames_per_s\": %.1f, \"bytes_per_s\": %.1f, \"seconds\": %.4f}\n", count / seconds, count * (double)bytes / seconds, seconds);
    return 0;
}
