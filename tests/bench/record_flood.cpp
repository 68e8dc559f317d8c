// Floods a collector (`cowtrace record --socket PATH`) with library records over the socket
// protocol the shim speaks (lib/shim/channel.cpp: one SOCK_SEQPACKET connection, one record per
// message, SO_PASSCRED), as fast as the collector takes them: the connection's queue is small,
// so once it is full the send rate is the collector's ingest rate.
//
//   record_flood SOCKET RECORDS plain|fork
//
//   plain  ExecFailed records only: the collector's bare path (receive, check, append)
//   fork   what a process that forks and reaps children sends: Created (a 6-frame call site, a
//          new child pid each time) then WaitReaped for that child, alternating
//
// Prints one line: "RECORDS seconds records_per_second" (first send to last send).
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>

#include "wire/record.hpp"
#include "wire/shim_records.hpp"

namespace {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

int connect_to(const char* path) {
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) return -1;
    memcpy(addr.sun_path, path, strlen(path));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 || (strcmp(argv[3], "plain") != 0 && strcmp(argv[3], "fork") != 0)) {
        fprintf(stderr, "usage: record_flood SOCKET RECORDS plain|fork\n");
        return 2;
    }
    long records = atol(argv[2]);
    bool fork_mix = strcmp(argv[3], "fork") == 0;
    int fd = connect_to(argv[1]);
    if (fd < 0) {
        fprintf(stderr, "record_flood: cannot connect to %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    const pid_t self = getpid();
    // Return addresses as the shim would capture them (the collector notes each frame once).
    const uint64_t frames[] = {0x555555555100ull, 0x555555556200ull, 0x7ffff7c29d90ull,
                               0x7ffff7c29e40ull, 0x555555555085ull, 0x555555557010ull};
    alignas(8) uint8_t buf[512];
    uint32_t seq = 0;
    uint64_t t0 = now_ns();
    namespace wire = cowtrace::wire;
    for (long i = 0; i < records; ++i) {
        // Child pids cycle through 30,000 values, as a busy machine's would.
        pid_t child = static_cast<pid_t>(400000 + (i / 2) % 30000);
        wire::RecordStamp stamp{0, self, self, now_ns(), seq++};
        size_t size;
        if (!fork_mix) {
            size = wire::encode_record(wire::ExecFailed{ENOENT}, stamp, buf, sizeof buf);
        } else if (i % 2 == 0) {
            wire::Created created;
            created.how = wire::CreateHow::kFork;
            created.child = child;
            created.error = 0;
            created.call_site = {frames, std::size(frames)};
            size = wire::encode_record(created, stamp, buf, sizeof buf);
        } else {
            wire::WaitReaped reaped{wire::WaitCall::kWaitpid, child, 0};
            size = wire::encode_record(reaped, stamp, buf, sizeof buf);
        }
        for (;;) {
            ssize_t n = send(fd, buf, size, MSG_NOSIGNAL);
            if (n == static_cast<ssize_t>(size)) break;
            if (n < 0 && errno == EINTR) continue;
            fprintf(stderr, "record_flood: send after %ld records: %s\n", i,
                    n < 0 ? strerror(errno) : "short send");
            return 1;
        }
    }
    double seconds = static_cast<double>(now_ns() - t0) / 1e9;
    close(fd);
    printf("%ld %.4f %.0f\n", records, seconds, static_cast<double>(records) / seconds);
    return 0;
}
