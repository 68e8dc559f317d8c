// A Redis-style snapshot, in miniature: an in-memory key-value table whose process forks a child
// to write the table to a file while the parent keeps updating keys. Every page the parent
// updates during the save is copied — the memory spike Redis users see during BGSAVE.
//
//   snapshot_demo [--keys N] [--value-bytes B] [--updates-per-second R] [--save-seconds S]
//                 [--output FILE]
//
// Run it under cowtrace to see the copy-on-write curve of the save:
//   cowtrace run -o demo.trace -- snapshot_demo && cowtrace report demo.trace
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
    size_t keys = 200000;
    size_t value_bytes = 1000;
    double updates_per_second = 20000;
    double save_seconds = 3;
    std::string output = "snapshot.bin";
};

// The table: fixed-size slots in one allocation, as a hash table's arena would be.
class KeyValueTable {
public:
    KeyValueTable(size_t keys, size_t value_bytes)
        : slot_bytes_(sizeof(uint64_t) + value_bytes), data_(keys * slot_bytes_) {
        for (size_t k = 0; k < keys; ++k) set(k, static_cast<char>('a' + k % 26));
    }
    void set(size_t key, char fill) {
        char* slot = data_.data() + key * slot_bytes_;
        uint64_t version = 0;
        memcpy(&version, slot, sizeof version);
        ++version;
        memcpy(slot, &version, sizeof version);
        memset(slot + sizeof version, fill, slot_bytes_ - sizeof version);
    }
    size_t keys() const { return data_.size() / slot_bytes_; }
    const char* bytes() const { return data_.data(); }
    size_t size() const { return data_.size(); }

private:
    size_t slot_bytes_;
    std::vector<char> data_;
};

// The child: writes the table in chunks, paced to take about save_seconds.
int save_snapshot(const KeyValueTable& table, const Options& o) {
    FILE* f = fopen(o.output.c_str(), "wb");
    if (f == nullptr) return 1;
    const size_t chunks = 100;
    size_t chunk = (table.size() + chunks - 1) / chunks;
    auto pause = std::chrono::duration<double>(o.save_seconds / chunks);
    for (size_t off = 0; off < table.size(); off += chunk) {
        size_t n = std::min(chunk, table.size() - off);
        if (fwrite(table.bytes() + off, 1, n, f) != n) return 1;
        std::this_thread::sleep_for(pause);
    }
    return fclose(f) == 0 ? 0 : 1;
}

bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) return false;
        const char* v = argv[++i];
        if (a == "--keys")
            o.keys = strtoull(v, nullptr, 10);
        else if (a == "--value-bytes")
            o.value_bytes = strtoull(v, nullptr, 10);
        else if (a == "--updates-per-second")
            o.updates_per_second = atof(v);
        else if (a == "--save-seconds")
            o.save_seconds = atof(v);
        else if (a == "--output")
            o.output = v;
        else
            return false;
    }
    return o.keys > 0 && o.value_bytes > 0 && o.save_seconds >= 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) {
        fprintf(stderr,
                "usage: snapshot_demo [--keys N] [--value-bytes B] [--updates-per-second R] "
                "[--save-seconds S] [--output FILE]\n");
        return 2;
    }
    KeyValueTable table(o.keys, o.value_bytes);
    printf("table: %zu keys, %.1f MiB\n", table.keys(), table.size() / 1048576.0);
    fflush(stdout);

    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) _exit(save_snapshot(table, o));

    // The parent keeps serving writes while the child saves.
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<size_t> pick(0, table.keys() - 1);
    auto start = std::chrono::steady_clock::now();
    size_t updates = 0;
    int status = 0;
    for (;;) {
        pid_t done = waitpid(child, &status, WNOHANG);
        if (done == child) break;
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // A batch never outgrows 10 ms worth at the requested rate, nor 65,536
        // updates: at an unreachable rate (1e9/s: "as fast as you can") the parent still looks
        // for its child between batches instead of chasing a target that grows faster than it.
        size_t due = std::min(
            static_cast<size_t>(elapsed * o.updates_per_second),
            updates + static_cast<size_t>(std::clamp(o.updates_per_second / 100, 1.0, 65536.0)));
        for (; updates < due; ++updates)
            table.set(pick(rng), static_cast<char>('A' + updates % 26));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    printf("snapshot %s in %.1f s while the parent made %zu updates\n", ok ? "written" : "FAILED",
           seconds, updates);
    return ok ? 0 : 1;
}
