// What the report model holds per process once built (issue 15): the heap the built ProcessTree
// keeps, measured with malloc's own counters, so that what the build reads and frees does not
// count.
//
//   model_memory TRACE
//
// Prints one line: "PROCESSES processes BYTES bytes_per_process sizeof ForkEpisode=… Process=…
// ExecEvent=…". Bytes per process: mallinfo2()'s uordblks + hblkhd (in use, mmapped) after
// build_process_tree less before, less the reserved and unused capacity of the tree's processes
// and episodes (a vector's doubling, not the model's shape), divided by the processes.
#include <malloc.h>

#include <cstdio>
#include <string>
#include <vector>

#include "model/process_tree.hpp"
#include "model/tree_builder.hpp"

namespace {

size_t heap_in_use() {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: model_memory TRACE\n");
        return 2;
    }
    using cowtrace::model::ExecEvent;
    using cowtrace::model::ForkEpisode;
    using cowtrace::model::Process;
    std::vector<std::string> paths{argv[1]};
    std::string error;
    size_t before = heap_in_use();
    cowtrace::model::ProcessTree tree;
    if (!cowtrace::model::build_process_tree(paths, tree, error)) {
        fprintf(stderr, "model_memory: %s\n", error.c_str());
        return 1;
    }
    size_t after = heap_in_use();
    size_t unused = (tree.processes.capacity() - tree.processes.size()) * sizeof(Process) +
                    (tree.episodes.capacity() - tree.episodes.size()) * sizeof(ForkEpisode);
    size_t held = after - before - unused;
    size_t n = tree.processes.size();
    printf(
        "%zu processes %.0f bytes_per_process sizeof ForkEpisode=%zu Process=%zu ExecEvent=%zu\n",
        n, n ? static_cast<double>(held) / static_cast<double>(n) : 0.0, sizeof(ForkEpisode),
        sizeof(Process), sizeof(ExecEvent));
    return 0;
}
