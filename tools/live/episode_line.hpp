// One line per fork episode as it ends: what `attach --live` prints when its output is not a
// terminal (a log, a pipe), where a redrawn screen would be noise.
#pragma once

#include <string>

#include "live_state.hpp"

namespace cowtrace::live {

// "fork 4242 → 4243 (redis-server *:6379) ended after 2.4 s: shared 64.0 MiB, copied 20.0 MiB
// (31%)", without a newline; control characters of the command shown as '?'.
std::string episode_line(const EndedEpisode& episode);

}  // namespace cowtrace::live
