#include "records.hpp"

#include <fcntl.h>
#include <sys/auxv.h>

#include "clock.hpp"
#include "process_state.hpp"
#include "raw_syscall.hpp"

namespace cowtrace::shim {

wire::RecordStamp next_stamp(const Caller& caller) {
    wire::RecordStamp stamp;
    stamp.flags = caller.vfork_child ? wire::kFromVforkChild : 0;
    stamp.pid = caller.pid;
    stamp.tid = caller.tid;
    stamp.t_ns = monotonic_ns();
    if (!caller.vfork_child) {
        stamp.seq = process_state().seq.fetch_add(1, std::memory_order_relaxed);
    }
    return stamp;
}

void send_hello(uint32_t hello_flags, char* const* argv, const Caller& caller) {
    wire::Hello hello;
    char cmdline[wire::kMaxArgvBytes];
    if (argv != nullptr) {
        hello.argv = wire::TextList::of_array(argv);
    } else {
        long fd = raw_syscall(SYS_open, rs_arg("/proc/self/cmdline"), O_RDONLY | O_CLOEXEC, 0);
        long n = 0;
        if (fd >= 0) {
            n = raw_syscall(SYS_read, fd, rs_arg(cmdline), sizeof cmdline);
            raw_close(static_cast<int>(fd));
        }
        hello.argv = wire::TextList::of_nul_separated(cmdline, n > 0 ? static_cast<size_t>(n) : 0);
    }
    hello.flags = hello_flags;
    hello.ppid = raw_getppid();
    hello.execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
    hello.uid = static_cast<uint32_t>(raw_syscall(SYS_getuid));
    hello.euid = static_cast<uint32_t>(raw_syscall(SYS_geteuid));
    send(hello, caller);
}

}  // namespace cowtrace::shim
