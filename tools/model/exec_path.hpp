// A file name an exec named: the file it ran, or the name as the program passed it. Interned
// text (interned_text.hpp): the build shares each name spelt alike.
#pragma once

#include "interned_text.hpp"

namespace cowtrace::model {

using ExecPath = InternedText;

}  // namespace cowtrace::model
