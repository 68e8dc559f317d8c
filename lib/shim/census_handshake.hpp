// The census handshake: a forked child asks the collector to read its memory (the fork-time
// baseline, or the final state before exit or exec) and waits, bounded, for the answer.
#pragma once

#include "process_state.hpp"
#include "wire/record.hpp"

namespace cowtrace::shim {

// Sends a CensusRequest on this process's own connection and waits for the CensusAck, at most
// COWTRACE_CENSUS_TIMEOUT_MS. False when there was nobody to ask, or no answer in time (then
// the channel counts as congested). reason: for a final census, whether the child exits or execs.
bool census_handshake(const Caller& caller, wire::CensusKind kind, wire::EpisodeEndReason reason);

}  // namespace cowtrace::shim
