// The environment variables through which `cowtrace run` (or a user) configures the library.
// The library reads them with secure_getenv and puts them back into the environment of every
// exec and spawn; the collector sets them for the command.
#pragma once

namespace cowtrace::wire {

inline constexpr const char* kEnvSocket = "COWTRACE_SOCKET";  // the collector's socket
inline constexpr const char* kEnvSpool = "COWTRACE_SPOOL";    // file for records no collector takes
inline constexpr const char* kEnvCensus = "COWTRACE_CENSUS";  // "0": no census handshakes
inline constexpr const char* kEnvSendTimeout = "COWTRACE_SEND_TIMEOUT_MS";
inline constexpr const char* kEnvCensusTimeout = "COWTRACE_CENSUS_TIMEOUT_MS";

// Every variable above: what an exec or spawn must carry over.
inline constexpr const char* kLibraryVariables[] = {kEnvSocket, kEnvSpool, kEnvCensus,
                                                    kEnvSendTimeout, kEnvCensusTimeout};

}  // namespace cowtrace::wire
