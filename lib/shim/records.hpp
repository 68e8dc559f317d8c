// One function per shim record: encode on the stack, hand to the channel. Field order is the
// wire format (docs/FORMAT.md); append new fields at the end only.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "call_site.hpp"
#include "wire/record.hpp"

namespace cowtrace::shim {

void send_hello(uint32_t hello_flags);
void send_created(wire::CreateHow how, pid_t child, int err, uint64_t clone_flags,
                  const CallSite& site, const char* path, uint32_t image_flags,
                  char* const* argv);
void send_child_start(wire::CreateHow how, pid_t parent, uint32_t token);
void send_spawn_begin(wire::CreateHow how, uint32_t token, const CallSite& site);
void send_exec_attempt(const char* path, const char* resolved, uint32_t image_flags,
                       char* const* argv, bool env_reinjected);
void send_exec_failed(int err);
void send_exit(wire::ExitHow how, int code);
void send_wait_reaped(wire::WaitCall call, pid_t child, int status);
void send_deepbind(const char* path);

}  // namespace cowtrace::shim
