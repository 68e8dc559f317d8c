// Where libcowtrace.so is: $COWTRACE_LIB, else ../lib/ next to this executable (the build tree
// mirrors the install tree).
#pragma once

#include <string>

namespace cowtrace::cli {

// An absolute path to the library, or empty with error set.
std::string locate_library(std::string& error);

}  // namespace cowtrace::cli
