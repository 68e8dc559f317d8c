// Initialisation and the transitions every wrapper shares: a new process, the end of a fork
// episode, the end of a process. The library initialises lazily: another library's constructor
// may fork or exec before ours has run.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "process_state.hpp"
#include "wire/record.hpp"

#define COWTRACE_EXPORT extern "C" __attribute__((visibility("default")))

namespace cowtrace::shim {

// First thing in every wrapper. Also notices when it runs in a process nobody told us was
// created (a raw clone), and adopts it. Returns who runs the wrapper, for the records it sends.
Caller ensure_initialized();

// In the child of a fork-like creation (async-signal-safe): take over the globals, open our own
// connection, announce ourselves, and for a memory-copying creation let the collector take its
// fork-time baseline before this child writes anything.
void child_after_fork(wire::CreateHow how, pid_t parent);

// A vfork child's first record says whose child it is.
void announce_vfork_child(const Caller& caller);

// The child's memory is about to disappear (exit) or be replaced (exec): let the collector take
// its final census while both processes still exist. No-op outside an open episode.
void end_of_episode(const Caller& caller, wire::EpisodeEndReason reason);
// The exec failed: the episode goes on.
void resume_episode(const Caller& caller);

// The process is ending itself (exit, _exit, abort, exit_group…): the episode's end, then the
// Exit record.
void process_ends(const Caller& caller, wire::ExitHow how, int code);

// This process's minor page faults so far (getrusage): what a forked child that was never
// censused reports as its cheap figure.
uint64_t own_minor_faults();

}  // namespace cowtrace::shim
