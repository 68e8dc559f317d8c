#include "parent_links.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace cowtrace::model {

namespace {

// Recycled pids or a damaged trace can make processes each other's ancestors; renderers walk
// the links from the roots, so a cycle's members would vanish from the report (or the walk
// never end). The link out of the cycle's earliest-started member is dropped: it becomes a
// root, as the likeliest ancestor of the others.
void break_cycles(const ProcessTree& tree, std::vector<size_t>& parent_of) {
    enum : uint8_t { kUnseen, kOnPath, kDone };
    std::vector<uint8_t> state(parent_of.size(), kUnseen);
    std::vector<size_t> path;
    for (size_t start = 0; start < parent_of.size(); ++start) {
        path.clear();
        size_t i = start;
        while (i != SIZE_MAX && state[i] == kUnseen) {
            state[i] = kOnPath;
            path.push_back(i);
            i = parent_of[i];
        }
        if (i != SIZE_MAX && state[i] == kOnPath) {  // back on this walk's path: a cycle
            size_t first = i;
            for (size_t j = parent_of[i]; j != i; j = parent_of[j]) {
                const Process& a = tree.processes[j];
                const Process& b = tree.processes[first];
                if (a.start_ns < b.start_ns || (a.start_ns == b.start_ns && j < first)) first = j;
            }
            parent_of[first] = SIZE_MAX;
        }
        for (size_t j : path) state[j] = kDone;
    }
}

}  // namespace

void link_parents(ProcessTree& tree, const ProcessIndex& index) {
    std::vector<size_t> parent_of(tree.processes.size(), SIZE_MAX);
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        const Process& p = tree.processes[i];
        if (p.ppid <= 0) continue;
        // The latest holder of the parent's pid that started before it, else the first.
        std::optional<size_t> latest = index.current(p.ppid);
        size_t best = SIZE_MAX;
        size_t first = SIZE_MAX;
        for (size_t j = latest.value_or(SIZE_MAX); j != SIZE_MAX; j = index.previous_holder(j)) {
            first = j;
            if (best == SIZE_MAX && j != i && tree.processes[j].start_ns <= p.start_ns) best = j;
        }
        if (best == SIZE_MAX) best = first;
        if (best != SIZE_MAX && best != i) parent_of[i] = best;
    }
    break_cycles(tree, parent_of);
    // Every parent's children together, in index order, then each parent's sorted by start.
    std::vector<size_t> first_child(tree.processes.size() + 1, 0);
    for (size_t parent : parent_of) {
        if (parent != SIZE_MAX) ++first_child[parent + 1];
    }
    for (size_t i = 1; i < first_child.size(); ++i) first_child[i] += first_child[i - 1];
    std::vector<uint32_t> children(first_child.back());
    std::vector<size_t> filled(first_child.begin(), first_child.end() - 1);
    tree.process_children.reserve(children.size());
    for (size_t i = 0; i < parent_of.size(); ++i) {
        if (parent_of[i] != SIZE_MAX) children[filled[parent_of[i]]++] = static_cast<uint32_t>(i);
    }
    for (size_t i = 0; i < tree.processes.size(); ++i) {
        auto from = children.begin() + static_cast<ptrdiff_t>(first_child[i]);
        auto to = children.begin() + static_cast<ptrdiff_t>(first_child[i + 1]);
        std::sort(from, to, [&tree](uint32_t a, uint32_t b) {
            return tree.processes[a].start_ns < tree.processes[b].start_ns;
        });
        tree.processes[i].children = tree.process_children.keep(std::span<const uint32_t>(
            children.data() + first_child[i], first_child[i + 1] - first_child[i]));
    }
}

}  // namespace cowtrace::model
