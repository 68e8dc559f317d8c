// Brendan Gregg's folded stacks ("frame;frame;frame BYTES", outermost frame first) of the fork
// call sites, weighted by the bytes their episodes copied (each episode's peak): the input of
// flamegraph.pl --countname bytes, speedscope and Pyroscope.
#pragma once

#include <ostream>

#include "model/process_tree.hpp"

namespace cowtrace::report {

// One line per distinct stack: the forking program, its call-site frames, then the creating
// call ("fork"). Stacks whose episodes copied nothing are left out.
void write_folded(const model::ProcessTree& tree, std::ostream& out);

// The code that made the copies (`--weight copies`): one line per sampled call path, the
// copying program and its side ("[parent]"/"[child]") first, then the frames outermost first,
// weighted by the bytes its page faults copied (estimated). Identical stacks are summed.
void write_folded_copies(const model::ProcessTree& tree, std::ostream& out);

}  // namespace cowtrace::report
