// The tree's links: each process under the incarnation of its creator that was alive when it
// started, children in order of their start.
#pragma once

#include "process_index.hpp"
#include "process_tree.hpp"

namespace cowtrace::model {

void link_parents(ProcessTree& tree, const ProcessIndex& index);

}  // namespace cowtrace::model
